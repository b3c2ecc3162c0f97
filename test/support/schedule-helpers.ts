import { afterEach, beforeEach } from "vitest";
import { createApp } from "../../src/app.ts";
import { cronJobs } from "../../src/cron/jobs.ts";
import { runTick, type TickOptions } from "../../src/cron/tick.ts";
import { testBindings } from "./bindings.ts";
import { createAccountWithPrincipal, type TestPrincipal } from "./factories.ts";
import { queryRows } from "./graph.ts";
import { callAs, createAgent, type Json } from "./task-factories.ts";
import { createTestClient, type TestClient } from "./test-client.ts";
import { createTestDatabase, type TestDatabase } from "./test-database.ts";

export const minute = 60_000;
export const at = (base: string | Date, minutes: number) =>
  new Date(new Date(base).getTime() + minutes * minute);

export interface ScheduleTestApp {
  database: TestDatabase;
  client: TestClient;
  /** The app's clock: what `now` is for creates and edits. */
  clock: { now: Date };
  owner: TestPrincipal;
  agentId: string;
  call: ReturnType<typeof callAs>;
  /** Runs the cron's `schedules` job as if the Cron Trigger fired at `now`. */
  fire(now: Date, options?: TickOptions): Promise<Record<string, number>>;
  /** The runs a schedule spawned, oldest instant first. */
  runs(scheduleId: string): Promise<{ id: string; scheduled_for: string; state: string }[]>;
  createSchedule(body: Json): Promise<Json & { id: string; next_fire_at: string }>;
  schedulePath(scheduleId: string): string;
}

/**
 * A database, an app on a controllable clock and an agent for each test: the firing job works on
 * every due schedule in the database, so tests that fire must not share one.
 */
export function useScheduleTestApp(start = "2026-11-22T10:00:30Z"): ScheduleTestApp {
  const state = {} as ScheduleTestApp;
  beforeEach(async () => {
    state.database = await createTestDatabase();
    state.clock = { now: new Date(start) };
    const env = testBindings(state.database);
    state.client = createTestClient(createApp({ now: () => state.clock.now, logSink: () => {} }), env);
    state.owner = await createAccountWithPrincipal(state.client);
    state.agentId = await createAgent(state.client, state.owner);
    state.call = callAs(state.client, state.owner);
    const job = cronJobs.filter((candidate) => candidate.name === "schedules");
    state.fire = async (now, options = {}) =>
      (await runTick(env, now, { logSink: () => {}, ...options, jobs: job })).schedules ?? {};
    state.runs = async (scheduleId) => {
      const rows = await queryRows<{ id: string; scheduled_for: Date; state: string }>(
        state.database,
        "SELECT id, scheduled_for, state FROM tasks WHERE schedule_id = $1 ORDER BY scheduled_for",
        [scheduleId],
      );
      return rows.map((row) => ({ ...row, scheduled_for: new Date(row.scheduled_for).toISOString() }));
    };
    state.schedulePath = (scheduleId) => `/v1/agents/${state.agentId}/schedules/${scheduleId}`;
    state.createSchedule = async (body) => {
      const response = await state.call("POST", `/v1/agents/${state.agentId}/schedules`, {
        name: `schedule-${crypto.randomUUID()}`,
        cron: "* * * * *",
        task: { type: "report" },
        ...body,
      });
      if (response.status !== 201)
        throw new Error(`schedule create failed: ${response.status} ${response.text}`);
      return response.body as Json & { id: string; next_fire_at: string };
    };
  });
  afterEach(() => state.database?.drop());
  return state;
}
