// The `schedules` cron job (DESIGN §7): one run per (schedule, instant) however many ticks run at
// once, overlap policies, pause and resume, and the catch-up window.
import { afterEach, describe, expect, it } from "vitest";
import { createPostgresAuthorizer } from "../../src/authz/authorizer.ts";
import { configFor } from "../../src/config/bindings.ts";
import { type Budget, unlimitedBudget } from "../../src/cron/budget.ts";
import { type DatabaseHandle, openDatabase } from "../../src/db/client.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { fireDueSchedules } from "../../src/schedules/fire-due.ts";
import { queryRows } from "../support/graph.ts";
import { at, type ScheduleTestApp, useScheduleTestApp } from "../support/schedule-helpers.ts";

/** `count` schedules under the test's agent, due every minute from `first`, written set-based. */
async function bulkSchedules(t: ScheduleTestApp, count: number, first: string) {
  await queryRows(
    t.database,
    `INSERT INTO schedules (id, account_id, agent_id, name, cron, task_type, task_max_attempts, overlap,
                            next_fire_at, creator_user_id)
     SELECT 'sch_' || lpad(g::text, 26, '0'), $1, $2, 'bulk-' || g, '* * * * *', 'report', 3, 'allow',
            $3::timestamptz, $4
     FROM generate_series(1, $5::int) AS g`,
    [t.owner.accountId, t.agentId, first, t.owner.id, count],
  );
}

/** How many runs exist for `instant`, and over how many schedules. */
async function runsAt(t: ScheduleTestApp, instant: Date) {
  const [row] = await queryRows<{ runs: number; schedules: number }>(
    t.database,
    "SELECT count(*)::int AS runs, count(DISTINCT schedule_id)::int AS schedules FROM tasks WHERE scheduled_for = $1",
    [instant],
  );
  return row;
}

/** A budget that allows `batches` batches, then reports itself spent. */
function budgetOfBatches(batches: number): Budget {
  let checks = 0;
  return { ...unlimitedBudget, exhausted: () => checks++ >= batches };
}

describe("firing schedules", () => {
  const t = useScheduleTestApp("2026-11-22T10:00:30Z");
  const first = "2026-11-22T10:01:00.000Z";
  const read = async (id: string) => (await t.call("GET", t.schedulePath(id))).body;

  it("spawns each minute once when three ticks run at the same time", async () => {
    const schedule = await t.createSchedule({ overlap: "allow", task: { type: "report", input: { n: 1 } } });
    expect(schedule.next_fire_at).toBe(first);
    for (let m = 0; m < 3; m++) {
      const counts = await Promise.all([1, 2, 3].map(() => t.fire(at(first, m))));
      expect(counts.reduce((sum, c) => sum + (c.spawned ?? 0), 0)).toBe(1);
    }
    const runs = await t.runs(schedule.id);
    expect(runs.map((run) => run.scheduled_for)).toEqual([0, 1, 2].map((m) => at(first, m).toISOString()));
    const task = await t.call("GET", `/v1/tasks/${runs[0]?.id}`);
    expect(task.body).toMatchObject({
      state: "submitted",
      type: "report",
      input: { n: 1 },
      schedule_id: schedule.id,
      scheduled_for: first,
      created_by: { type: t.owner.type, id: t.owner.id },
    });
    expect(await read(schedule.id)).toMatchObject({
      next_fire_at: at(first, 3).toISOString(),
      last_scheduled_for: at(first, 2).toISOString(),
      last_task_id: runs[2]?.id,
      missed_fires: 0,
    });
  });

  it("fires again idempotently: a tick for a minute already fired spawns nothing", async () => {
    const schedule = await t.createSchedule({ overlap: "allow" });
    expect((await t.fire(at(first, 0))).spawned).toBe(1);
    expect((await t.fire(at(first, 0))).spawned).toBe(0);
    expect((await t.fire(new Date(at(first, 0).getTime() + 30_000))).spawned).toBe(0);
    expect(await t.runs(schedule.id)).toHaveLength(1);
  });

  it("skip: spawns nothing while the previous run is working, counting the instants missed", async () => {
    const schedule = await t.createSchedule({ overlap: "skip" });
    await t.fire(at(first, 0));
    const [run] = await t.runs(schedule.id);
    const claim = await t.call("POST", "/v1/leases", {
      agent_id: t.agentId,
      worker_id: "w",
      lease_seconds: 600,
    });
    expect(claim.body.items).toMatchObject([{ task: { id: run?.id } }]);
    await t.fire(at(first, 1));
    await t.fire(at(first, 2));
    expect(await t.runs(schedule.id)).toHaveLength(1);
    expect(await read(schedule.id)).toMatchObject({ missed_fires: 2, buffered_for: null });

    const epoch = (claim.body.items as { lease: { epoch: number } }[])[0]?.lease.epoch;
    await t.call("POST", `/v1/tasks/${run?.id}/complete`, { result: "ok", worker_id: "w", epoch });
    await t.fire(at(first, 3));
    const runs = await t.runs(schedule.id);
    expect(runs.map((r) => r.scheduled_for)).toEqual([first, at(first, 3).toISOString()]);
    expect(await read(schedule.id)).toMatchObject({ missed_fires: 2 });
  });

  it("buffer_one: keeps the latest instant while the previous run is live and spawns it after", async () => {
    const schedule = await t.createSchedule({ overlap: "buffer_one" });
    await t.fire(at(first, 0));
    await t.fire(at(first, 1));
    expect(await read(schedule.id)).toMatchObject({
      buffered_for: at(first, 1).toISOString(),
      missed_fires: 0,
    });
    await t.fire(at(first, 2));
    expect(await read(schedule.id)).toMatchObject({
      buffered_for: at(first, 2).toISOString(),
      missed_fires: 1,
    });
    expect(await t.runs(schedule.id)).toHaveLength(1);

    const [run] = await t.runs(schedule.id);
    await t.call("POST", `/v1/tasks/${run?.id}/cancel`, { reason: "done with it" });
    // No instant is due half a minute later; the buffered run is.
    expect((await t.fire(new Date(at(first, 2).getTime() + 30_000))).spawned).toBe(1);
    const runs = await t.runs(schedule.id);
    expect(runs.map((r) => r.scheduled_for)).toEqual([first, at(first, 2).toISOString()]);
    expect(await read(schedule.id)).toMatchObject({ buffered_for: null, last_task_id: runs[1]?.id });
  });

  it("counts instants older than the catch-up window as missed and runs the rest", async () => {
    const schedule = await t.createSchedule({ overlap: "allow", catchup_window_seconds: 600 });
    const counts = await t.fire(at(first, 30));
    // Instants 10:01..10:20 are older than 10 minutes at 10:31; 10:21..10:31 run.
    expect(counts).toMatchObject({ spawned: 11, missed: 20 });
    const runs = await t.runs(schedule.id);
    expect(runs[0]?.scheduled_for).toBe(at(first, 20).toISOString());
    expect(runs.at(-1)?.scheduled_for).toBe(at(first, 30).toISOString());
    expect(await read(schedule.id)).toMatchObject({
      missed_fires: 20,
      next_fire_at: at(first, 31).toISOString(),
    });
  });

  it("after an outage, skip runs only the latest instant in the window", async () => {
    const schedule = await t.createSchedule({ overlap: "skip", catchup_window_seconds: 600 });
    await t.fire(at(first, 30));
    const runs = await t.runs(schedule.id);
    expect(runs.map((r) => r.scheduled_for)).toEqual([at(first, 30).toISOString()]);
    expect(await read(schedule.id)).toMatchObject({ missed_fires: 30 });
  });

  it("spawns nothing while paused and resumes from now, without a backlog", async () => {
    const schedule = await t.createSchedule({ overlap: "allow" });
    const paused = await t.call("PATCH", t.schedulePath(schedule.id), { paused: true });
    expect(paused.body).toMatchObject({ paused: true, next_fire_at: null });
    await t.fire(at(first, 0));
    await t.fire(at(first, 5));
    expect(await t.runs(schedule.id)).toEqual([]);

    t.clock.now = new Date(at(first, 10).getTime() + 15_000);
    const resumed = await t.call("PATCH", t.schedulePath(schedule.id), { paused: false });
    expect(resumed.body).toMatchObject({ paused: false, next_fire_at: at(first, 11).toISOString() });
    await t.fire(at(first, 11));
    const runs = await t.runs(schedule.id);
    expect(runs.map((r) => r.scheduled_for)).toEqual([at(first, 11).toISOString()]);
    expect(await read(schedule.id)).toMatchObject({ missed_fires: 0 });
  });

  it("evaluates the expression in the schedule's time zone, across a DST change", async () => {
    t.clock.now = new Date("2026-03-07T12:00:00Z");
    const schedule = await t.createSchedule({
      cron: "0 9 * * *",
      timezone: "America/New_York",
      overlap: "allow",
      catchup_window_seconds: 7 * 24 * 3600,
    });
    // 09:00 EST is 14:00Z; after the switch on 8 March, 09:00 EDT is 13:00Z.
    expect(schedule.next_fire_at).toBe("2026-03-07T14:00:00.000Z");
    await t.fire(new Date("2026-03-09T14:00:00Z"));
    const runs = await t.runs(schedule.id);
    expect(runs.map((r) => r.scheduled_for)).toEqual([
      "2026-03-07T14:00:00.000Z",
      "2026-03-08T13:00:00.000Z",
      "2026-03-09T13:00:00.000Z",
    ]);
  });

  describe("under the job's time budget, with no fixed cap", () => {
    const generous = { timeMs: 600_000, subrequests: 1_000 };
    const handles: DatabaseHandle[] = [];
    afterEach(async () => {
      for (const handle of handles.splice(0)) await handle.close();
    });
    /** The `schedules` job itself, with a budget of the test's own. */
    const fireWith = (budget: Budget, now: Date) => {
      const handle = openDatabase(
        { databaseUrl: t.database.url, databaseWsProxy: t.database.proxy },
        () => {},
      );
      handles.push(handle);
      const config = configFor(t.client.env);
      return fireDueSchedules(
        {
          db: handle.db,
          config,
          logger: createLogger(() => {}),
          authorizer: createPostgresAuthorizer(),
          budget,
        },
        now,
      );
    };

    it("fires more than 1,000 due schedules in one tick when the budget allows", async () => {
      await bulkSchedules(t, 1_250, first);
      const counts = await t.fire(at(first, 0), { budget: generous });
      expect(counts).toMatchObject({ schedules: 1_250, spawned: 1_250, batches: 13, budget_spent: 0 });
      expect(await runsAt(t, at(first, 0))).toEqual({ runs: 1_250, schedules: 1_250 });
      // Nothing is left due for that minute.
      expect(await t.fire(at(first, 0), { budget: generous })).toMatchObject({ schedules: 0, batches: 0 });
    }, 300_000);

    it("stops when the budget is spent, and the next tick goes on from there", async () => {
      await bulkSchedules(t, 350, first);
      const none = await t.fire(at(first, 0), { budget: { timeMs: 0, subrequests: 1_000 } });
      expect(none).toMatchObject({ schedules: 0, spawned: 0, batches: 0, budget_spent: 1 });
      expect(await runsAt(t, at(first, 0))).toEqual({ runs: 0, schedules: 0 });

      const part = await fireWith(budgetOfBatches(2), at(first, 0));
      expect(part).toMatchObject({ schedules: 200, spawned: 200, batches: 2, budget_spent: 1 });
      expect(await runsAt(t, at(first, 0))).toEqual({ runs: 200, schedules: 200 });

      const rest = await t.fire(at(first, 0), { budget: generous });
      expect(rest).toMatchObject({ schedules: 150, spawned: 150, batches: 2, budget_spent: 0 });
      expect(await runsAt(t, at(first, 0))).toEqual({ runs: 350, schedules: 350 });
    }, 300_000);

    it("shares the work when three ticks run at once: each schedule fires once, nothing is left", async () => {
      await bulkSchedules(t, 450, first);
      const ticks = await Promise.all([1, 2, 3].map(() => t.fire(at(first, 0), { budget: generous })));
      expect(ticks.reduce((sum, counts) => sum + (counts.spawned ?? 0), 0)).toBe(450);
      expect(ticks.reduce((sum, counts) => sum + (counts.schedules ?? 0), 0)).toBe(450);
      expect(await runsAt(t, at(first, 0))).toEqual({ runs: 450, schedules: 450 });
      expect(await t.fire(at(first, 0), { budget: generous })).toMatchObject({ schedules: 0, spawned: 0 });
    }, 300_000);
  });
});
