// Runs the Worker's own entry point inside workerd: per-request Neon Pool over a real WebSocket,
// bindings parsed by workerd's env, and the scheduled handler.
import { createScheduledController, env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { cronJobs } from "../../src/cron/jobs.ts";
import { TickFailedError } from "../../src/cron/tick.ts";
import { MisconfiguredError } from "../../src/errors/domain-error.ts";
import worker from "../../src/index.ts";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { createTestClient, executionContext, type TestClient } from "../support/test-client.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-database.ts";

describe("the Worker inside workerd", () => {
  let database: TestDatabase;
  let bindings: Record<string, unknown>;
  let client: TestClient;
  beforeAll(async () => {
    database = await createTestDatabase();
    bindings = { ...env, DATABASE_URL: database.url };
    client = createTestClient(worker, bindings);
  });
  afterAll(() => database.drop());

  it("serves a database-backed readiness check", async () => {
    const response = await client.request("GET", "/ready");
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: "ready" });
  });

  it("creates an account and key with the admin token, then authenticates with the key", async () => {
    const principal = await createAccountWithPrincipal(client, { role: "admin" });
    const response = await client.request("GET", "/v1/principal", { token: principal.token });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      account_id: principal.accountId,
      type: "user",
      id: principal.id,
      role: "admin",
      key_id: principal.keyId,
    });
  });

  it("drives a task through the authorization graph and one-statement transitions", async () => {
    const owner = await createAccountWithPrincipal(client);
    const call = (method: string, path: string, body?: unknown) =>
      client.request<Record<string, unknown>>(method, path, {
        token: owner.token,
        ...(body ? { body } : {}),
      });
    const agent = await call("POST", "/v1/agents", { name: "in-workerd" });
    const task = await call("POST", "/v1/tasks", { agent_id: agent.body.id, type: "t" });
    expect(task.status).toBe(201);
    const done = await call("POST", `/v1/tasks/${task.body.id}/complete`, { result: { ok: true } });
    expect(done.body).toMatchObject({ state: "completed", result: { ok: true } });
    const again = await call("POST", `/v1/tasks/${task.body.id}/complete`, { result: { ok: false } });
    expect(again.body.code).toBe("result_conflict");
  });

  it("reclaims an expired lease from the scheduled handler", async () => {
    const owner = await createAccountWithPrincipal(client);
    const call = (method: string, path: string, body?: unknown) =>
      client.request<Record<string, unknown>>(method, path, {
        token: owner.token,
        ...(body ? { body } : {}),
      });
    const agent = await call("POST", "/v1/agents", { name: "reclaim-in-workerd" });
    const task = await call("POST", "/v1/tasks", { agent_id: agent.body.id, type: "t" });
    await call("POST", "/v1/leases", { agent_id: agent.body.id, worker_id: "w", lease_seconds: 1 });
    // The lease is one second long; wait it out on the database clock.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const ctx = executionContext();
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      await worker.scheduled(
        createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }),
        bindings,
        ctx,
      );
      await ctx.settle();
    } finally {
      log.mockRestore();
    }
    expect((await call("GET", `/v1/tasks/${task.body.id}`)).body).toMatchObject({
      state: "submitted",
      lease: null,
    });
  });

  it("fires a due schedule from the scheduled handler, once however often the minute is delivered", async () => {
    const owner = await createAccountWithPrincipal(client);
    const call = (method: string, path: string, body?: unknown) =>
      client.request<Record<string, unknown>>(method, path, {
        token: owner.token,
        ...(body ? { body } : {}),
      });
    const agent = await call("POST", "/v1/agents", { name: "schedules-in-workerd" });
    const base = `/v1/agents/${agent.body.id}/schedules`;
    const schedule = await call("POST", base, {
      name: "each-minute",
      cron: "* * * * *",
      task: { type: "tick" },
    });
    expect(schedule.status).toBe(201);
    const scheduledTime = Date.parse(schedule.body.next_fire_at as string);
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      for (let delivery = 0; delivery < 2; delivery++) {
        const ctx = executionContext();
        await worker.scheduled(
          createScheduledController({ scheduledTime, cron: "* * * * *" }),
          bindings,
          ctx,
        );
        await ctx.settle();
      }
    } finally {
      log.mockRestore();
    }
    const tasks = await call("GET", `/v1/tasks?agent_id=${agent.body.id}`);
    expect(tasks.body.items).toMatchObject([
      { type: "tick", schedule_id: schedule.body.id, scheduled_for: schedule.body.next_fire_at },
    ]);
  });

  it("runs the scheduled handler and logs one structured line per tick", async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
    try {
      const ctx = executionContext();
      const scheduledTime = Date.parse("2026-11-21T10:00:00Z");
      await worker.scheduled(createScheduledController({ scheduledTime, cron: "* * * * *" }), bindings, ctx);
      await ctx.settle();
    } finally {
      spy.mockRestore();
    }
    const ticks = lines.map((line) => JSON.parse(line)).filter((entry) => entry.event === "cron.tick");
    expect(ticks).toHaveLength(1);
    expect(ticks[0]).toMatchObject({ level: "info", tick: "2026-11-21T10:00:00.000Z" });
    expect(Object.keys(ticks[0].jobs)).toEqual(cronJobs.map((job) => job.name));
    expect(ticks[0].jobs.reclaim).toMatchObject({
      statements: expect.any(Number),
      reclaimed: expect.any(Number),
    });
  });

  it("reports a tick whose jobs failed to the platform: the scheduled handler rejects", async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
    let outcome: unknown;
    try {
      // A database that refuses connections: every job fails, each is still tried.
      const unreachable = { ...bindings, DATABASE_URL: "postgres://nobody:nothing@127.0.0.1:9/none" };
      outcome = await worker
        .scheduled(
          createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }),
          unreachable,
          executionContext(),
        )
        .then(
          () => "resolved",
          (error: unknown) => error,
        );
    } finally {
      spy.mockRestore();
    }
    expect(outcome).toBeInstanceOf(TickFailedError);
    expect((outcome as TickFailedError).failedJobs).toEqual(cronJobs.map((job) => job.name));
    expect((outcome as Error).message).not.toMatch(/nobody|nothing|127\.0\.0\.1|postgres:/);
    const events = lines.map((line) => JSON.parse(line));
    expect(events.filter((e) => e.event === "cron.job_failed")).toHaveLength(cronJobs.length);
    expect(events.filter((e) => e.event === "cron.tick")).toHaveLength(1);
  });

  it("rejects a tick with misconfigured bindings without running a job", async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
    try {
      await expect(
        worker.scheduled(
          createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }),
          { ...bindings, FGAC_TASKS: "perhaps" },
          executionContext(),
        ),
      ).rejects.toBeInstanceOf(MisconfiguredError);
    } finally {
      spy.mockRestore();
    }
    const events = lines.map((line) => JSON.parse(line));
    expect(events.map((e) => e.event)).toEqual(["config.invalid"]);
    expect(events[0].bindings).toEqual(["FGAC_TASKS"]);
  });
});
