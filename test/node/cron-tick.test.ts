import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CronJob } from "../../src/cron/job.ts";
import { runTick, TickFailedError } from "../../src/cron/tick.ts";
import { MisconfiguredError } from "../../src/errors/domain-error.ts";
import { testBindings } from "../support/bindings.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-database.ts";

describe("cron tick", () => {
  let database: TestDatabase;
  let env: Record<string, unknown>;
  beforeAll(async () => {
    database = await createTestDatabase();
    env = testBindings(database);
  });
  afterAll(() => database.drop());

  it("runs each job in order against the database and logs one line with every job's counts", async () => {
    const order: string[] = [];
    const countAccounts: CronJob = {
      name: "count_accounts",
      async runOnce({ db }) {
        order.push("count_accounts");
        const result = await db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM accounts`);
        return { accounts: result.rows[0]?.n ?? -1 };
      },
    };
    const echoNow: CronJob = {
      name: "echo_now",
      async runOnce(_deps, now) {
        order.push("echo_now");
        return { minute: now.getUTCMinutes() };
      },
    };
    const lines: string[] = [];
    const counts = await runTick(env, new Date("2026-11-21T10:07:00Z"), {
      jobs: [countAccounts, echoNow],
      logSink: (line) => lines.push(line),
    });
    expect(order).toEqual(["count_accounts", "echo_now"]);
    expect(counts).toEqual({ count_accounts: { accounts: 0 }, echo_now: { minute: 7 } });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ event: "cron.tick", jobs: counts });
  });

  it("runs every job when one fails, logs the counts, then rejects without internals", async () => {
    const lines: string[] = [];
    const ran: string[] = [];
    const tick = runTick(env, new Date("2026-11-21T10:08:00Z"), {
      jobs: [
        { name: "first", runOnce: async () => (ran.push("first"), { done: 1 }) },
        {
          name: "broken",
          runOnce: () => Promise.reject(new Error("boom: SELECT secret_column FROM hidden_table")),
        },
        { name: "last", runOnce: async () => (ran.push("last"), { done: 2 }) },
      ],
      logSink: (line) => lines.push(line),
    });
    const error = await tick.then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    expect(error).toBeInstanceOf(TickFailedError);
    const failure = error as TickFailedError;
    expect(failure.failedJobs).toEqual(["broken"]);
    expect(failure.counts).toEqual({ first: { done: 1 }, broken: { failed: 1 }, last: { done: 2 } });
    expect(failure.message).not.toMatch(/boom|SELECT|hidden_table|secret_column/);
    expect(ran).toEqual(["first", "last"]);
    const events = lines.map((line) => JSON.parse(line));
    expect(events.find((e) => e.event === "cron.job_failed")).toMatchObject({
      job: "broken",
      error_name: "Error",
    });
    const ticks = events.filter((e) => e.event === "cron.tick");
    expect(ticks).toHaveLength(1);
    expect(ticks[0]).toMatchObject({ level: "error", jobs: failure.counts });
  });

  it("rejects a tick whose database cannot be opened, after logging the counts line", async () => {
    const lines: string[] = [];
    const tick = runTick(env, new Date(), {
      jobs: [{ name: "needs_db", runOnce: async () => ({ done: 1 }) }],
      openDatabase: () => {
        throw new Error("no route to host");
      },
      logSink: (line) => lines.push(line),
    });
    await expect(tick).rejects.toBeInstanceOf(TickFailedError);
    const events = lines.map((line) => JSON.parse(line));
    expect(events.find((e) => e.event === "cron.tick")).toMatchObject({ jobs: { needs_db: { failed: 1 } } });
  });

  it("logs invalid bindings, runs nothing and rejects naming no binding", async () => {
    const lines: string[] = [];
    let ran = false;
    const tick = runTick({ ...env, FGAC_AGENTS: "maybe" }, new Date(), {
      jobs: [{ name: "never", runOnce: async () => ((ran = true), {}) }],
      logSink: (line) => lines.push(line),
    });
    const error = await tick.then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    expect(error).toBeInstanceOf(MisconfiguredError);
    expect((error as Error).message).not.toContain("FGAC");
    expect(ran).toBe(false);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      event: "config.invalid",
      bindings: ["FGAC_AGENTS"],
    });
  });
});
