// leasehold two ways: through its HTTP handlers in-process, and its services called directly
// with a prepared context (the same claim/complete statements without HTTP or authentication:
// the floor the HTTP layers sit on).
import { sql } from "drizzle-orm";
import pg from "pg";
import { knownCaller } from "../../src/auth/caller.ts";
import { callerContext } from "../../src/auth/context.ts";
import { createPostgresAuthorizer } from "../../src/authz/authorizer.ts";
import { configFor } from "../../src/config/bindings.ts";
import type { Database } from "../../src/db/client.ts";
import { runMigrations } from "../../src/db/migrations/runner.ts";
import { completeBatch } from "../../src/leases/batch-complete.ts";
import { claim } from "../../src/leases/service.ts";
import { completeTask } from "../../src/leases/transitions.ts";
import type { ServiceContext } from "../../src/lib/service-context.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { createTaskBatch } from "../../src/tasks/create.ts";
import {
  type Driver,
  type LeaseholdApp,
  openLeaseholdApp,
  provisionWorker,
  type WorkerIdentity,
} from "../leasehold-app.ts";
import { type BenchSystem, consumeUntilEmpty, inChunks, type SystemRun } from "./system.ts";

type Granted = { task: { id: string }; lease: { worker_id: string; epoch: number } };
const drizzleFolder = new URL("../../drizzle", import.meta.url).pathname;

export async function migrateLeasehold(url: string): Promise<void> {
  const session = new pg.Client({ connectionString: url });
  await session.connect();
  try {
    await runMigrations(session, { folder: drizzleFolder });
  } finally {
    await session.end();
  }
}

const tasks = (size: number) => Array.from({ length: size }, () => ({ type: "noop" }));
const completion = (item: Granted) => ({
  id: item.task.id,
  worker_id: item.lease.worker_id,
  epoch: item.lease.epoch,
  result: null,
});

function assertAllCompleted(outcomes: { items: { id: string; error?: unknown }[] }): void {
  const refused = outcomes.items.find((outcome) => outcome.error);
  if (refused) throw new Error(`batch complete refused ${refused.id}: ${JSON.stringify(refused.error)}`);
}

/** The verbs a consumer loop needs, over HTTP or over the services. */
export interface LeaseholdVerbs {
  createBatch(size: number): Promise<void>;
  claim(workerId: string, maxTasks: number): Promise<Granted[]>;
  complete(item: Granted): Promise<void>;
  completeMany(items: Granted[]): Promise<void>;
}

/** N consumer loops over the verbs: claim one (or 100), complete it (or them), until none is left. */
export function drainLeasehold(verbs: LeaseholdVerbs, consumers: number, batched: boolean): Promise<void> {
  return consumeUntilEmpty(consumers, async (consumer) => {
    const items = await verbs.claim(`worker-${consumer}`, batched ? 100 : 1);
    if (items.length === 0) return 0;
    if (batched) await verbs.completeMany(items);
    else for (const item of items) await verbs.complete(item);
    return items.length;
  });
}

export const enqueueLeasehold = (verbs: LeaseholdVerbs, count: number) =>
  inChunks(count, (size) => verbs.createBatch(size));

export async function countCompleted(db: Database): Promise<number> {
  const result = await db.execute<{ done: number }>(
    sql`SELECT count(*)::int AS done FROM tasks WHERE state = 'completed'`,
  );
  return result.rows[0]?.done ?? 0;
}

function leaseholdRun(app: LeaseholdApp, verbs: LeaseholdVerbs, batched: boolean): SystemRun {
  return {
    enqueue: (count) => enqueueLeasehold(verbs, count),
    drain: (consumers) => drainLeasehold(verbs, consumers, batched),
    countDone: () => countCompleted(app.db),
    close: () => app.close(),
  };
}

export function httpVerbs(call: LeaseholdApp["call"], worker: WorkerIdentity): LeaseholdVerbs {
  return {
    createBatch: (size) =>
      call("POST", "/v1/tasks/batch", { agent_id: worker.agentId, tasks: tasks(size) }, worker.token).then(
        () => {},
      ),
    claim: async (workerId, maxTasks) =>
      (
        await call<{ items: Granted[] }>(
          "POST",
          "/v1/leases",
          { agent_id: worker.agentId, worker_id: workerId, max_tasks: maxTasks },
          worker.token,
        )
      ).items,
    complete: (item) =>
      call(
        "POST",
        `/v1/tasks/${item.task.id}/complete`,
        { result: null, worker_id: item.lease.worker_id, epoch: item.lease.epoch },
        worker.token,
      ).then(() => {}),
    completeMany: async (items) =>
      assertAllCompleted(
        await call("POST", "/v1/tasks/batch-complete", { items: items.map(completion) }, worker.token),
      ),
  };
}

export async function serviceContext(app: LeaseholdApp, worker: WorkerIdentity): Promise<ServiceContext> {
  const key = await app.db.execute<{ id: string }>(sql`SELECT id FROM api_keys LIMIT 1`);
  const keyId = key.rows[0]?.id ?? "";
  const logger = createLogger(() => {});
  const principal = { accountId: worker.accountId, ...worker.principal, role: "member" as const, keyId };
  return callerContext(
    {
      db: () => app.db,
      now: new Date(),
      config: configFor(app.bindings),
      authorizer: createPostgresAuthorizer(),
      metrics: createMetrics(logger, undefined),
      logger,
    },
    knownCaller(principal),
  );
}

export function serviceVerbs(ctx: ServiceContext, worker: WorkerIdentity): LeaseholdVerbs {
  return {
    createBatch: (size) =>
      createTaskBatch(ctx, { agent_id: worker.agentId, tasks: tasks(size) }, undefined).then(() => {}),
    claim: async (workerId, maxTasks) =>
      (await claim(ctx, { agent_id: worker.agentId, worker_id: workerId, max_tasks: maxTasks })).items,
    complete: (item) =>
      completeTask(ctx, item.task.id, null, {
        worker_id: item.lease.worker_id,
        epoch: item.lease.epoch,
      }).then(() => {}),
    completeMany: async (items) => assertAllCompleted(await completeBatch(ctx, items.map(completion))),
  };
}

export function leaseholdSystem(options: {
  layer: "http" | "sql";
  driver: Driver;
  batched: boolean;
  proxyAddress: string;
}): BenchSystem {
  const via = options.layer === "http" ? `HTTP handlers, ${options.driver}` : `SQL floor, ${options.driver}`;
  return {
    id: `leasehold-${options.layer}-${options.driver}${options.batched ? "-batched" : ""}`,
    label: `leasehold (${via})`,
    batched: options.batched,
    buildTemplate: migrateLeasehold,
    async open(url, consumers) {
      const app = await openLeaseholdApp({
        url,
        driver: options.driver,
        poolSize: consumers + 2,
        proxyAddress: options.proxyAddress,
      });
      const worker = await provisionWorker(app.call);
      if (options.layer === "http") return leaseholdRun(app, httpVerbs(app.call, worker), options.batched);
      return leaseholdRun(app, serviceVerbs(await serviceContext(app, worker), worker), options.batched);
    },
  };
}
