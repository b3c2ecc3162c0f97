// The `schedules` cron job (DESIGN §7): one run per (schedule, instant) however many ticks run at
// once, overlap policies, pause and resume, and the catch-up window.
import { describe, expect, it } from "vitest";
import { at, useScheduleTestApp } from "../support/schedule-helpers.ts";

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
});
