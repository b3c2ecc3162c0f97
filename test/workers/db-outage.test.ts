// The same outages inside workerd, whose sockets report failures in their own words: a request
// whose connection the server kills, and a bridge that is gone, answer 503 db_unavailable.

import { env } from "cloudflare:test";
import type { Client } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectSession } from "../../scripts/local/database-url.ts";
import worker from "../../src/index.ts";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { callAs, createAgent, createTask } from "../support/task-factories.ts";
import { createTestClient, type TestClient } from "../support/test-client.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-database.ts";

describe("database outages inside workerd", () => {
  let database: TestDatabase;
  let client: TestClient;
  beforeAll(async () => {
    database = await createTestDatabase();
    client = createTestClient(worker, { ...env, DATABASE_URL: database.url });
  });
  afterAll(() => database.drop());

  async function killWhileBlocked(
    taskId: string,
    request: () => Promise<{ status: number; body: unknown; headers: Headers }>,
  ) {
    const holder = await connectSession(database.url, database.proxy);
    const watcher = await connectSession(database.url, database.proxy);
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE", [taskId]);
      const holderPid = await pidOf(holder);
      const pending = request();
      const deadline = Date.now() + 20_000;
      for (;;) {
        const { rows } = await watcher.query(
          `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND $2 = ANY (pg_blocking_pids(pid))`,
          [database.name, holderPid],
        );
        if (rows.length === 1) {
          await watcher.query("SELECT pg_terminate_backend($1)", [rows[0].pid]);
          break;
        }
        if (Date.now() > deadline) throw new Error("the request never blocked on the held lock");
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return await pending;
    } finally {
      await holder.query("ROLLBACK").catch(() => {});
      await holder.end().catch(() => {});
      await watcher.end().catch(() => {});
    }
  }

  it("answers 503 when the server kills a transition's or a delete's connection", async () => {
    const owner = await createAccountWithPrincipal(client);
    const taskId = await createTask(client, owner, await createAgent(client, owner));
    for (const request of [
      () => callAs(client, owner)("POST", `/v1/tasks/${taskId}/cancel`, { reason: "r" }),
      () => callAs(client, owner)("DELETE", `/v1/tasks/${taskId}`),
    ]) {
      const response = await killWhileBlocked(taskId, request);
      expect(response.status, JSON.stringify(response.body)).toBe(503);
      expect(response.body).toMatchObject({ code: "db_unavailable" });
      expect(response.headers.get("retry-after")).not.toBeNull();
    }
    const task = await callAs(client, owner)("GET", `/v1/tasks/${taskId}`);
    expect(task.body).toMatchObject({ state: "submitted" });
  });

  it("answers 503 when the database bridge is gone", async () => {
    const dead = createTestClient(worker, {
      ...env,
      DATABASE_URL: database.url,
      DATABASE_WS_PROXY: "127.0.0.1:9",
    });
    const response = await dead.request("GET", "/ready");
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ code: "db_unavailable" });
  });
});

async function pidOf(session: Client): Promise<number> {
  const { rows } = await session.query("SELECT pg_backend_pid() AS pid");
  return Number(rows[0].pid);
}
