import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CronJob } from "../../src/cron/job.ts";
import { runTick } from "../../src/cron/tick.ts";
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

  it("isolates a failing job: it is logged and counted, and the next job still runs", async () => {
    const lines: string[] = [];
    const counts = await runTick(env, new Date(), {
      jobs: [
        { name: "broken", runOnce: () => Promise.reject(new Error("boom")) },
        { name: "fine", runOnce: async () => ({ done: 1 }) },
      ],
      logSink: (line) => lines.push(line),
    });
    expect(counts).toEqual({ broken: { failed: 1 }, fine: { done: 1 } });
    const events = lines.map((line) => JSON.parse(line));
    expect(events.find((e) => e.event === "cron.job_failed")).toMatchObject({
      job: "broken",
      error_message: "boom",
    });
  });

  it("logs invalid bindings and runs nothing", async () => {
    const lines: string[] = [];
    let ran = false;
    const counts = await runTick({ ...env, FGAC_AGENTS: "maybe" }, new Date(), {
      jobs: [{ name: "never", runOnce: async () => ((ran = true), {}) }],
      logSink: (line) => lines.push(line),
    });
    expect(counts).toEqual({});
    expect(ran).toBe(false);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      event: "config.invalid",
      bindings: ["FGAC_AGENTS"],
    });
  });
});
