// The spicedb backend's cron work within a budget (DESIGN §8, ADR 0018): every SpiceDB attempt
// spends from the job's budget, retention purges only what it can deregister, the outbox keeps
// what a budget left undone, and no SpiceDB call happens inside an open transaction.
import { beforeEach, describe, expect, it } from "vitest";
import { enqueueDeregistration, enqueueEdgeRemoval } from "../../src/authz/outbox-repo.ts";
import { createSpiceDbAuthorizer } from "../../src/authz/spicedb/authorizer.ts";
import { BudgetSpentError } from "../../src/authz/spicedb/client.ts";
import { changeEdges } from "../../src/authz/spicedb/relationships.ts";
import { sweepGraceMs } from "../../src/authz/spicedb/sweep.ts";
import { configFor } from "../../src/config/bindings.ts";
import { createBudget, defaultJobBudget, unlimitedBudget } from "../../src/cron/budget.ts";
import { cronJobs } from "../../src/cron/jobs.ts";
import { runTick } from "../../src/cron/tick.ts";
import type { Database } from "../../src/db/client.ts";
import { newId } from "../../src/lib/ids.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { purgeFinishedTasks } from "../../src/tasks/retention.ts";
import { createAccountWithPrincipal, type TestPrincipal } from "../support/factories.ts";
import { queryRows } from "../support/graph.ts";
import { spicedbForFile } from "../support/spicedb.ts";
import { callsSince, clientFor, seedTasks, tasksWithEdges, withDb } from "../support/spicedb-seed.ts";
import { callAs, createAgent } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";

const remove = "/v1/relationships/delete";
const read = "/v1/relationships/read";

describe("spicedb backend: cron budgets", () => {
  const spicedb = spicedbForFile();
  const testApp = useTestApp({ logSink: () => {} }, spicedb.bindings);
  let owner: TestPrincipal;
  let agentId: string;
  beforeEach(async () => {
    await spicedb.reset();
    await queryRows(testApp.database, "DELETE FROM authz_outbox");
    await queryRows(testApp.database, "DELETE FROM tasks");
    owner = await createAccountWithPrincipal(testApp.client);
    agentId = await createAgent(testApp.client, owner);
  });
  const authorizerOn = (db: Database) =>
    createSpiceDbAuthorizer({ client: clientFor(spicedb), db: () => db, logger: createLogger(() => {}) });
  const outbox = () =>
    queryRows<{ id: string; object_ids: string[]; attempts: number }>(
      testApp.database,
      "SELECT id, object_ids, attempts FROM authz_outbox ORDER BY id",
    );
  const taskRows = async () =>
    new Set((await queryRows<{ id: string }>(testApp.database, "SELECT id FROM tasks")).map((r) => r.id));
  const seedOld = (count: number) =>
    seedTasks(testApp.database, spicedb, {
      accountId: owner.accountId,
      agentId,
      count,
      finishedDaysAgo: 31,
      viewer: `${owner.accountId}/dmlld2Vy`,
    });
  /** No task row is gone whose edges are still in SpiceDB without an outbox entry to remove them. */
  async function expectNoForgottenEdges() {
    const rows = await taskRows();
    const queued = new Set((await outbox()).flatMap((entry) => entry.object_ids));
    const forgotten = [...(await tasksWithEdges(spicedb))].filter((id) => !rows.has(id) && !queued.has(id));
    expect(forgotten).toEqual([]);
  }
  /**
   * Runs `action` with the first call to `path` slowed down, and meanwhile asserts that no session
   * of this database sits in an open transaction (which a call made inside one would show).
   */
  async function whileSlowCall<T>(path: string, action: () => Promise<T>): Promise<T> {
    await spicedb.fault({ path, delay_ms: 1500, count: 1 });
    const before = (await spicedb.calls())[path] ?? 0;
    const running = action();
    const deadline = Date.now() + 30_000;
    while (((await spicedb.calls())[path] ?? 0) === before && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await spicedb.calls())[path] ?? 0).toBeGreaterThan(before);
    const sessions = await queryRows<{ state: string | null }>(
      testApp.database,
      "SELECT state FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
      [testApp.database.name],
    );
    expect(sessions.filter((session) => session.state?.startsWith("idle in transaction"))).toEqual([]);
    return running;
  }
  const retentionOnly = cronJobs.filter((job) => job.name === "retention");
  const outboxOnly = cronJobs.filter((job) => job.name === "authz_outbox");
  const tick = (jobs: typeof cronJobs, subrequests = defaultJobBudget.subrequests) =>
    runTick(testApp.client.env, new Date(), {
      logSink: () => {},
      jobs,
      budget: { timeMs: 60_000, subrequests },
    });

  it("spends one subrequest per attempt, retries included, and calls nothing once the budget is spent", async () => {
    const budget = createBudget({ timeMs: 60_000, subrequests: 3 });
    const client = clientFor(spicedb).withBudget(budget);
    await spicedb.fault({ path: remove, code: 14, count: 2 });
    const before = await spicedb.calls();
    await client.call(
      remove,
      { relationshipFilter: { resourceType: "task" } },
      { op: "deregister", resourceType: "task" },
    );
    expect(budget.subrequestsLeft()).toBe(0);
    await expect(
      client.call(
        remove,
        { relationshipFilter: { resourceType: "task" } },
        { op: "deregister", resourceType: "task" },
      ),
    ).rejects.toBeInstanceOf(BudgetSpentError);
    expect(await callsSince(spicedb, before)).toEqual({ [remove]: 3 });
  });

  it("spends the schedules job's budget on registering the runs it spawns", async () => {
    const created = await callAs(testApp.client, owner)("POST", `/v1/agents/${agentId}/schedules`, {
      name: "each-minute",
      cron: "* * * * *",
      overlap: "allow",
      task: { type: "report" },
    });
    const job = cronJobs.find((candidate) => candidate.name === "schedules");
    if (!job) throw new Error("no schedules job");
    const budget = createBudget({ timeMs: 60_000, subrequests: 50 });
    const before = await spicedb.calls();
    const counts = await withDb(testApp.database, (db) =>
      job.runOnce(
        {
          db,
          config: configFor(testApp.client.env),
          logger: createLogger(() => {}),
          authorizer: authorizerOn(db),
          budget,
        },
        new Date(created.body.next_fire_at as string),
      ),
    );
    expect(counts).toMatchObject({ spawned: 1 });
    const calls = Object.values(await callsSince(spicedb, before)).reduce((sum, count) => sum + count, 0);
    expect(calls).toBeGreaterThan(0);
    expect(budget.subrequestsLeft()).toBe(50 - calls);
  });

  it("purges 1,000 tasks in one retention tick with 1,000 SpiceDB calls, one per task, grants included", async () => {
    const ids = await seedOld(1000);
    const before = await spicedb.calls();
    const counts = await tick(retentionOnly);
    expect(counts.retention).toEqual({ purged: 1000, batches: 1 });
    // Before this change: 2,000 (each task deleted as resource and as subject).
    expect(await callsSince(spicedb, before)).toEqual({ [remove]: 1000 });
    const left = await tasksWithEdges(spicedb);
    expect(ids.filter((id) => left.has(id))).toEqual([]);
    expect(await outbox()).toEqual([]);
    expect(await taskRows()).toEqual(new Set());
  });

  it("makes retention's SpiceDB calls after its delete committed, outside any transaction", async () => {
    await seedOld(20);
    const counts = await whileSlowCall(remove, () => tick(retentionOnly));
    expect(counts.retention).toEqual({ purged: 20, batches: 1 });
    expect(await tasksWithEdges(spicedb)).toEqual(new Set());
    expect(await outbox()).toEqual([]);
  });

  it("purges only what the budget can deregister; the rest waits, and no row goes whose edges are forgotten", async () => {
    await seedOld(250);
    const purgedPerTick: number[] = [];
    for (let round = 0; round < 5 && (await taskRows()).size > 0; round++) {
      const before = await spicedb.calls();
      const counts = await tick(retentionOnly, 100);
      purgedPerTick.push(counts.retention?.purged ?? -1);
      expect((await callsSince(spicedb, before))[remove] ?? 0).toBeLessThanOrEqual(100);
      await expectNoForgottenEdges();
    }
    expect(purgedPerTick).toEqual([100, 100, 50]);
    expect(await tasksWithEdges(spicedb)).toEqual(new Set());
    expect(await outbox()).toEqual([]);
  });

  it("keeps a purge's deregistration queued when SpiceDB is down, and the drain finishes it later", async () => {
    const ids = await seedOld(40);
    await spicedb.fault({ path: remove, code: 14, count: 10_000 });
    await withDb(testApp.database, async (db) => {
      await expect(
        purgeFinishedTasks({ db, authorizer: authorizerOn(db), budget: createBudget(defaultJobBudget) }, 30),
      ).rejects.toMatchObject({ code: "authz_unavailable" });
    });
    // The rows are gone (the delete committed) and every one of them is still queued.
    expect(await taskRows()).toEqual(new Set());
    const [entry, ...others] = await outbox();
    expect(others).toEqual([]);
    expect(entry?.attempts).toBe(1);
    expect(new Set(entry?.object_ids)).toEqual(new Set(ids));
    await expectNoForgottenEdges();

    await spicedb.fault({ path: remove, count: 0 });
    await queryRows(testApp.database, "UPDATE authz_outbox SET next_attempt_at = now()");
    const counts = await tick(outboxOnly);
    expect(counts.authz_outbox).toMatchObject({ completed: 1, failed: 0 });
    expect(await tasksWithEdges(spicedb)).toEqual(new Set());
    expect(await outbox()).toEqual([]);
  });

  it("drains an outbox entry of 1,000 ids with 1,000 calls, none of them inside an open transaction", async () => {
    const ids = await seedOld(1000);
    await queryRows(testApp.database, "DELETE FROM tasks");
    await withDb(testApp.database, (db) =>
      enqueueDeregistration(db, "task", ids, new Error("earlier failure")),
    );
    const before = await spicedb.calls();
    const counts = await whileSlowCall(remove, () => tick(outboxOnly));
    expect(counts.authz_outbox).toMatchObject({ completed: 1, failed: 0, deferred: 0 });
    // Before this change: 2,000 (each task deleted as resource and as subject).
    expect((await callsSince(spicedb, before))[remove]).toBe(1000);
    expect(await tasksWithEdges(spicedb)).toEqual(new Set());
    expect(await outbox()).toEqual([]);
  });

  it("keeps the ids a spent budget left in the entry; the next ticks finish them, and the sweep waits", async () => {
    const ids = await seedOld(250);
    await queryRows(testApp.database, "DELETE FROM tasks");
    await withDb(testApp.database, (db) =>
      enqueueDeregistration(db, "task", ids, new Error("earlier failure")),
    );
    const left: number[] = [];
    for (let round = 0; round < 5 && (await outbox()).length > 0; round++) {
      const queued = (await outbox())[0]?.object_ids.length ?? 0;
      const before = await spicedb.calls();
      await tick(outboxOnly, 100);
      const calls = await callsSince(spicedb, before);
      expect(calls[remove]).toBe(Math.min(queued, 100));
      // The sweep (a read per swept type: agent, task, schedule, api_key) gets what the drain left.
      expect(calls[read]).toBe(queued >= 100 ? undefined : 4);
      left.push((await outbox())[0]?.object_ids.length ?? 0);
      const stillThere = await tasksWithEdges(spicedb);
      expect(ids.filter((id) => stillThere.has(id))).toHaveLength(left.at(-1) ?? 0);
    }
    expect(left).toEqual([150, 50, 0]);
  });

  it("sweeps orphans within the budget and reads the same page again until they are gone", async () => {
    const orphans = Array.from({ length: 12 }, () => newId("agt", Date.now() - sweepGraceMs - 60_000));
    await changeEdges(
      clientFor(spicedb),
      orphans.map((id) => ({
        resourceType: "agent" as const,
        resourceId: id,
        relation: "account",
        subject: { type: "account", id: owner.accountId },
      })),
      [],
    );
    const removedPerTick: number[] = [];
    for (let round = 0; round < 5; round++) {
      const before = await spicedb.calls();
      const counts = await tick(outboxOnly, 10);
      const calls = await callsSince(spicedb, before);
      expect((calls[read] ?? 0) + (calls[remove] ?? 0)).toBeLessThanOrEqual(10);
      removedPerTick.push(counts.authz_outbox?.orphans ?? -1);
      const agents = new Set((await spicedb.edges("agent")).map((edge) => edge.slice(6, edge.indexOf("#"))));
      if (orphans.every((id) => !agents.has(id))) break;
    }
    // One read, then four agents of two calls each (as resource and as subject) per tick.
    expect(removedPerTick).toEqual([4, 4, 4]);
  });

  it("does each entry once when drains overlap", async () => {
    const ids = await seedOld(80);
    await queryRows(testApp.database, "DELETE FROM tasks");
    await withDb(testApp.database, async (db) => {
      for (let start = 0; start < ids.length; start += 20) {
        await enqueueDeregistration(db, "task", ids.slice(start, start + 20), new Error("earlier failure"));
      }
    });
    await spicedb.fault({ path: remove, delay_ms: 300, count: 6 });
    const before = await spicedb.calls();
    const results = await withDb(testApp.database, (db) =>
      Promise.all([1, 2, 3].map(() => authorizerOn(db).drainOutbox(db, unlimitedBudget))),
    );
    expect(results.reduce((sum, counts) => sum + counts.completed, 0)).toBe(4);
    expect((await callsSince(spicedb, before))[remove]).toBe(80);
    expect(await outbox()).toEqual([]);
  });

  it("keeps order per object: an entry waits while an older one names the same object", async () => {
    const [first, second] = await seedOld(2);
    const task = first as string;
    await queryRows(testApp.database, "DELETE FROM tasks");
    await withDb(testApp.database, async (db) => {
      await enqueueDeregistration(db, "task", [task], new Error("earlier failure"));
      await enqueueEdgeRemoval(
        db,
        [
          {
            resourceType: "task",
            resourceId: task,
            relation: "account",
            subject: { type: "account", id: owner.accountId },
          },
          {
            resourceType: "task",
            resourceId: second as string,
            relation: "account",
            subject: { type: "account", id: owner.accountId },
          },
        ],
        new Error("compensation failed"),
      );
    });
    // The older entry backs off: the younger one, naming the same task, is not taken either.
    await queryRows(
      testApp.database,
      "UPDATE authz_outbox SET next_attempt_at = now() + interval '1 hour' WHERE object_ids = $1",
      [[task]],
    );
    const drain = () => withDb(testApp.database, (db) => authorizerOn(db).drainOutbox(db, unlimitedBudget));
    expect(await drain()).toEqual({ completed: 0, failed: 0, deferred: 0 });
    expect(await outbox()).toHaveLength(2);
    // Once the older one is due, it goes first; the younger one on the next drain.
    await queryRows(testApp.database, "UPDATE authz_outbox SET next_attempt_at = now()");
    expect(await drain()).toEqual({ completed: 1, failed: 0, deferred: 0 });
    expect((await outbox()).map((entry) => entry.object_ids.length)).toEqual([2]);
    expect(await drain()).toEqual({ completed: 1, failed: 0, deferred: 0 });
    expect(await outbox()).toEqual([]);
    expect((await tasksWithEdges(spicedb)).has(task)).toBe(false);
    expect((await spicedb.edges("task")).filter((edge) => edge.startsWith(`task:${second}#`))).toEqual([
      `task:${second}#parent_agent@agent:${agentId}`,
    ]);
  });
});
