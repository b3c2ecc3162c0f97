// DESIGN §5: a PostgreSQL restart under load is answered 503 db_unavailable (never 500), the
// service recovers on its own, and no write that was acknowledged is lost. The test runs a
// PostgreSQL of its own (the shared one serves every other test file), stops it with an
// immediate shutdown (the postmaster's SIGQUIT: no checkpoint, crash recovery on the next start)
// and starts it again on the same port and data directory while the load keeps running.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectSession } from "../../scripts/local/database-url.ts";
import { type DbProxy, startDbProxy } from "../../scripts/local/db-proxy.ts";
import {
  freePort,
  type RunningPostgres,
  startEmbeddedPostgres,
} from "../../scripts/local/embedded-postgres.ts";
import { createApp } from "../../src/app.ts";
import { applyRoleTimeouts, defaultRoleTimeouts } from "../../src/db/migrations/role-timeouts.ts";
import { runMigrations } from "../../src/db/migrations/runner.ts";
import { testBindings } from "../support/bindings.ts";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { callAs, createAgent, type Json } from "../support/task-factories.ts";
import { createTestClient, type TestClient, type TestResponse } from "../support/test-client.ts";

const root = path.resolve(import.meta.dirname, "../..");

interface Outcome {
  step: "create" | "claim" | "complete";
  status: number;
  code: unknown;
  retryAfter: string | null;
  at: number;
}

describe("PostgreSQL restarts under load", () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "leasehold-restart-pg-"));
  let port: number;
  let postgres: RunningPostgres | undefined;
  let proxy: DbProxy;
  let client: TestClient;
  const logLines: string[] = [];

  // fsync off keeps the test fast; an immediate shutdown is a process crash, not a power loss,
  // so every commit PostgreSQL acknowledged has reached the WAL in the OS (synchronous_commit
  // stays on: with it off, an acknowledged commit could still be lost).
  const start = () => startEmbeddedPostgres({ dataDir, port, persistent: true, settings: { fsync: "off" } });

  beforeAll(async () => {
    port = await freePort();
    postgres = await start();
    proxy = await startDbProxy({ targetHost: postgres.host, targetPort: postgres.port });
    const session = await connectSession(postgres.url, `127.0.0.1:${proxy.port}`);
    await runMigrations(session, { folder: path.join(root, "drizzle") });
    await applyRoleTimeouts(session, defaultRoleTimeouts);
    await session.end();
    client = createTestClient(
      createApp({ logSink: (line) => logLines.push(line) }),
      testBindings({
        name: "postgres",
        url: postgres.url,
        proxy: `127.0.0.1:${proxy.port}`,
        drop: async () => {},
      }),
    );
  }, 60_000);

  afterAll(async () => {
    await proxy?.close();
    // After a failed restart the server may be gone already; stopping it then never settles.
    await Promise.race([postgres?.stop().catch(() => {}), pause(10_000)]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers 503 (never 500) through the outage, recovers, and loses no acknowledged write", async () => {
    const owner = await createAccountWithPrincipal(client, { role: "admin" });
    const agentId = await createAgent(client, owner);
    const call = callAs(client, owner);
    const outcomes: Outcome[] = [];
    const created = new Set<string>();
    const completed = new Set<string>();
    const record = (step: Outcome["step"], response: TestResponse<Json>) => {
      outcomes.push({
        step,
        status: response.status,
        code: response.body?.code,
        retryAfter: response.headers.get("retry-after"),
        at: Date.now(),
      });
      return response;
    };
    let running = true;
    const worker = async (n: number) => {
      while (running) {
        const create = record(
          "create",
          await call("POST", "/v1/tasks", { agent_id: agentId, type: "restart" }),
        );
        if (create.status === 201) created.add(create.body.id as string);
        const claim = record(
          "claim",
          await call("POST", "/v1/leases", { agent_id: agentId, worker_id: `w${n}`, lease_seconds: 120 }),
        );
        const items = claim.status === 200 ? (claim.body.items as { task: Json; lease: Json }[]) : [];
        for (const { task, lease } of items) {
          const complete = record(
            "complete",
            await call("POST", `/v1/tasks/${task.id}/complete`, {
              result: { by: n },
              worker_id: `w${n}`,
              epoch: lease.epoch,
            }),
          );
          if (complete.status === 200) completed.add(task.id as string);
        }
        // A client backs off after a 503; without it four loops spin on a 2-core machine.
        if (outcomes.at(-1)?.status === 503) await pause(50);
      }
    };
    const completesSince = (since: number) =>
      outcomes.filter((o) => o.step === "complete" && o.status === 200 && o.at >= since).length;
    const loops = [0, 1, 2, 3].map(worker);
    try {
      await waitFor("load before the outage", () => completesSince(0) >= 8, 15_000);

      const stoppedAt = Date.now();
      await immediateShutdown(dataDir);
      await waitFor(
        "a 503 during the outage",
        () => outcomes.some((o) => o.status === 503 && o.at >= stoppedAt),
        10_000,
      );
      postgres = await start();
      const restartedAt = Date.now();
      await waitFor("load after the restart", () => completesSince(restartedAt) >= 8, 20_000);
    } finally {
      running = false;
      await Promise.all(loops);
    }

    const unexpected = outcomes.filter(
      (o) =>
        !(o.status >= 200 && o.status < 300) &&
        !(o.status === 409 && ["lease_lost", "lease_held", "task_terminal"].includes(String(o.code))) &&
        !(o.status === 503 && o.code === "db_unavailable" && o.retryAfter !== null),
    );
    expect(unexpected).toEqual([]);
    expect(outcomes.filter((o) => o.status === 503).length).toBeGreaterThan(0);
    // Failures are logged by code and class, never with the statement or its parameters.
    const logged = logLines.join("\n");
    expect(logged).toContain('"event":"dependency.unavailable"');
    expect(logged).not.toMatch(/Failed query|params:|INSERT INTO|UPDATE tasks/);
    expect(logged).not.toContain(owner.id);

    const session = await connectSession(postgres.url, `127.0.0.1:${proxy.port}`);
    try {
      const { rows } = await session.query("SELECT id, state FROM tasks WHERE id = ANY($1::text[])", [
        [...created],
      ]);
      const states = new Map(rows.map((row) => [row.id as string, row.state as string]));
      expect([...created].filter((id) => !states.has(id))).toEqual([]);
      const finished = await session.query("SELECT id, state FROM tasks WHERE id = ANY($1::text[])", [
        [...completed],
      ]);
      expect(finished.rows).toHaveLength(completed.size);
      expect(finished.rows.filter((row) => row.state !== "completed")).toEqual([]);
    } finally {
      await session.end();
    }
  }, 60_000);
});

function pause(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(20);
  }
}

/** SIGQUIT to the postmaster is `pg_ctl stop -m immediate`; waits until it has exited. */
async function immediateShutdown(dataDir: string): Promise<void> {
  const pid = Number(readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
  process.kill(pid, "SIGQUIT");
  await waitFor(
    "the postmaster to exit",
    () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    },
    10_000,
  );
}
