// Property test: random interleavings of claim, heartbeat, expiry, reclaim, complete, fail and
// cancel from several workers, on real PostgreSQL with operations racing on separate
// connections. After every run: no task completed twice, no stale-epoch completion accepted,
// no task lost, and an event history that replays to the final state.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { parseBindings } from "../../src/config/bindings.ts";
import { type DatabaseHandle, openDatabase } from "../../src/db/client.ts";
import { DomainError } from "../../src/errors/domain-error.ts";
import { reclaimBatch } from "../../src/leases/reclaim.ts";
import { claim, heartbeat } from "../../src/leases/service.ts";
import { cancelTask, completeTask, failTask } from "../../src/leases/transitions.ts";
import type { ServiceContext } from "../../src/lib/service-context.ts";
import { isTerminal, type TaskState } from "../../src/lifecycle/task-lifecycle.ts";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { seededRandom } from "../support/seeded-random.ts";
import { serviceContextFor } from "../support/service-context.ts";
import { createAgent } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";

const interleavings = 10_000;
const lanes = 16;
const workers = ["w1", "w2", "w3"];

type Event = {
  type: string;
  from_state: TaskState | null;
  to_state: TaskState;
  lease_epoch: string | null;
  data: Record<string, unknown> | null;
};

interface Run {
  taskId: string;
  held: Map<string, number>;
  completions: { worker: string; epoch: number }[];
}

async function step(
  ctx: ServiceContext,
  handle: DatabaseHandle,
  agentId: string,
  run: Run,
  next: () => number,
) {
  const worker = workers[Math.floor(next() * workers.length)] as string;
  const epoch = run.held.get(worker);
  const op = Math.floor(next() * 7);
  try {
    if (op === 0) {
      const granted = await claim(ctx, {
        agent_id: agentId,
        worker_id: worker,
        lease_seconds: 60,
        max_tasks: 1,
      });
      for (const item of granted.items)
        if (item.task.id === run.taskId) run.held.set(worker, item.lease.epoch);
    } else if (op === 1 && epoch !== undefined) {
      await heartbeat(ctx, run.taskId, { worker_id: worker, epoch, lease_seconds: 60 });
    } else if (op === 2) {
      await handle.db.execute(sql`UPDATE tasks SET lease_expires_at = now() - interval '1 second'
        WHERE id = ${run.taskId} AND lease_expires_at IS NOT NULL`);
    } else if (op === 3) {
      await reclaimBatch(handle.db, 50);
    } else if (op === 4 && epoch !== undefined) {
      const task = await completeTask(ctx, run.taskId, worker, { worker_id: worker, epoch });
      if (task.state === "completed") run.completions.push({ worker, epoch });
    } else if (op === 5 && epoch !== undefined) {
      await failTask(ctx, run.taskId, worker, next() < 0.6, { worker_id: worker, epoch });
    } else if (op === 6 && next() < 0.3) {
      await cancelTask(ctx, run.taskId, "property");
    }
  } catch (error) {
    // Refusals are expected outcomes; anything else is a bug.
    if (
      !(error instanceof DomainError) ||
      ![
        "lease_lost",
        "lease_held",
        "task_terminal",
        "result_conflict",
        "invalid_state",
        "rate_limited",
      ].includes(error.code)
    ) {
      throw error;
    }
  }
}

async function check(handle: DatabaseHandle, run: Run): Promise<string[]> {
  const problems: string[] = [];
  // Let time pass for any live lease, then reclaim: every task must end terminal or claimable.
  await handle.db.execute(sql`UPDATE tasks SET lease_expires_at = now() - interval '1 second'
    WHERE id = ${run.taskId} AND lease_expires_at IS NOT NULL AND state IN ('working', 'compensating')`);
  // Another lane's reclaim may hold this row for a moment (SKIP LOCKED); it reclaims it then. How
  // long that moment lasts depends on the machine's load, so wait by a deadline, not a count.
  type Final = { state: TaskState; lease_owner: string | null; lease_expires_at: Date | null };
  let task: Final | undefined;
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    await reclaimBatch(handle.db, 1000);
    [task] = (
      await handle.db.execute<Final>(
        sql`SELECT state, lease_owner, lease_expires_at FROM tasks WHERE id = ${run.taskId}`,
      )
    ).rows;
    if (
      !task ||
      (task.state !== "working" && task.state !== "compensating") ||
      task.lease_expires_at === null
    )
      break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const events = (
    await handle.db.execute<Event>(sql`SELECT type, from_state, to_state, lease_epoch::text, data
    FROM task_events WHERE task_id = ${run.taskId} ORDER BY id`)
  ).rows;
  if (!task) return [`${run.taskId} vanished`];
  if (!isTerminal(task.state) && task.state !== "submitted" && task.state !== "compensating") {
    problems.push(
      `${run.taskId} lost in ${task.state} (lease ${task.lease_owner} until ${task.lease_expires_at}); events: ${events.map((e) => e.type).join(",")}`,
    );
  }
  const completed = events.filter((event) => event.type === "completed");
  if (completed.length > 1) problems.push(`${run.taskId} completed ${completed.length} times`);
  for (const { worker, epoch } of run.completions) {
    const granted = events.find(
      (event) => event.type === "lease_granted" && Number(event.lease_epoch) === epoch,
    );
    if (granted?.data?.worker_id !== worker)
      problems.push(`${run.taskId}: ${worker} completed with epoch ${epoch} it was not granted`);
    if (completed[0] && Number(completed[0].lease_epoch) !== epoch)
      problems.push(`${run.taskId}: accepted a stale completion`);
  }
  let state: TaskState | null = null;
  for (const event of events) {
    if (event.from_state !== state)
      problems.push(`${run.taskId}: ${event.type} from ${event.from_state} after ${state}`);
    state = event.to_state;
  }
  if (state !== task.state) problems.push(`${run.taskId}: events end in ${state}, task is ${task.state}`);
  return problems;
}

/** One statement creates a lane's tasks, each with its `created` event. */
async function createTasks(
  handle: DatabaseHandle,
  accountId: string,
  agentId: string,
  lane: number,
  count: number,
) {
  const result = await handle.db.execute<{ id: string }>(sql`
    WITH created AS (
      INSERT INTO tasks (id, account_id, agent_id, type, max_attempts)
      SELECT 'tsk_lane' || ${lane}::int || '_' || lpad(g::text, 6, '0'), ${accountId}, ${agentId}, 'property', 3
      FROM generate_series(1, ${count}::int) AS g
      RETURNING id, account_id, state
    ), events AS (
      INSERT INTO task_events (account_id, task_id, type, to_state, actor_type, actor_id)
      SELECT account_id, id, 'created', state, 'system', 'property-test' FROM created
    )
    SELECT id FROM created ORDER BY id`);
  return result.rows.map((row) => row.id);
}

describe("lease properties", () => {
  const testApp = useTestApp();

  it(`holds over ${interleavings} random interleavings`, async () => {
    const owner = await createAccountWithPrincipal(testApp.client, { role: "admin" });
    // Leases are the subject here, not authorization: decisions are account-scoped.
    const config = parseBindings({ ...testApp.client.env, FGAC_AGENTS: "off", FGAC_TASKS: "off" });
    const problems: string[] = [];
    let steps = 0;
    await Promise.all(
      Array.from({ length: lanes }, async (_, lane) => {
        const handle = openDatabase(
          { databaseUrl: testApp.database.url, databaseWsProxy: testApp.database.proxy },
          () => {},
        );
        const ctx = serviceContextFor(handle.db, owner, config);
        const agentId = await createAgent(testApp.client, owner);
        const next = seededRandom(lane + 1);
        const taskIds = await createTasks(
          handle,
          owner.accountId,
          agentId,
          lane,
          Math.ceil(interleavings / lanes),
        );
        try {
          for (let i = lane, n = 0; i < interleavings; i += lanes, n++) {
            const run: Run = { taskId: taskIds[n] as string, held: new Map(), completions: [] };
            const length = 4 + Math.floor(next() * 6);
            for (let s = 0; s < length; s += 2) {
              // Two operations at once, on two connections: the interleaving is the database's.
              await Promise.all([
                step(ctx, handle, agentId, run, next),
                step(ctx, handle, agentId, run, next),
              ]);
              steps += 2;
            }
            problems.push(...(await check(handle, run)));
          }
        } finally {
          await handle.close();
        }
      }),
    );
    expect(problems.slice(0, 10)).toEqual([]);
    expect(steps).toBeGreaterThanOrEqual(interleavings * 4);
  }, 600_000);
});
