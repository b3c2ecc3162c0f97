// DESIGN §5: every connection-level database failure is a 503 db_unavailable with Retry-After.
// Here the connection serving a request is killed by the server while the request waits inside
// PostgreSQL, behind a row lock another session holds.
import type { Client } from "@neondatabase/serverless";
import { describe, expect, it } from "vitest";
import { connectSession } from "../../scripts/local/database-url.ts";
import { createApp } from "../../src/app.ts";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { callAs, createAgent, createTask, type Json } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";
import { createTestClient, type TestResponse } from "../support/test-client.ts";

describe("a connection killed mid-request", () => {
  const testApp = useTestApp();
  const logLines: string[] = [];

  function outageClient() {
    return createTestClient(createApp({ logSink: (line) => logLines.push(line) }), testApp.client.env);
  }

  /** Holds `lock` in a transaction of its own, runs `request`, kills the request's blocked backend. */
  async function killWhileBlocked(
    lock: string,
    params: unknown[],
    request: () => Promise<TestResponse<Json>>,
  ): Promise<TestResponse<Json>> {
    const holder = await connectSession(testApp.database.url, testApp.database.proxy);
    const watcher = await connectSession(testApp.database.url, testApp.database.proxy);
    try {
      await holder.query("BEGIN");
      await holder.query(lock, params);
      const holderPid = await backendPid(holder);
      const pending = request();
      const victim = await waitForLockWaiter(watcher, testApp.database.name, holderPid);
      await watcher.query("SELECT pg_terminate_backend($1)", [victim]);
      return await pending;
    } finally {
      await holder.query("ROLLBACK").catch(() => {});
      await holder.end().catch(() => {});
      await watcher.end().catch(() => {});
    }
  }

  function expectUnavailable(response: TestResponse<Json>) {
    expect(response.status, response.text).toBe(503);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.headers.get("retry-after")).toMatch(/^[1-9][0-9]*$/);
    expect(response.body).toMatchObject({ code: "db_unavailable", status: 503 });
    expect(response.text).not.toMatch(/terminat|SELECT|UPDATE|INSERT|DELETE|postgres|57P01|stack/i);
  }

  it("answers 503 for a single-statement transition and writes nothing", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const taskId = await createTask(testApp.client, owner, agentId);
    const client = outageClient();
    const response = await killWhileBlocked("SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE", [taskId], () =>
      callAs(client, owner)("POST", `/v1/tasks/${taskId}/cancel`, { reason: "kill me" }),
    );
    expectUnavailable(response);
    const task = await callAs(testApp.client, owner)("GET", `/v1/tasks/${taskId}`);
    expect(task.body.state).toBe("submitted");
    const events = await callAs(testApp.client, owner)("GET", `/v1/tasks/${taskId}/events`);
    expect(events.body.items).toHaveLength(1); // "created" only: no cancel event
  });

  it("answers 503 for a delete inside an interactive transaction and deletes nothing", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const taskId = await createTask(testApp.client, owner, agentId);
    const client = outageClient();
    const response = await killWhileBlocked("SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE", [taskId], () =>
      callAs(client, owner)("DELETE", `/v1/tasks/${taskId}`),
    );
    expectUnavailable(response);
    expect((await callAs(testApp.client, owner)("GET", `/v1/tasks/${taskId}`)).status).toBe(200);
  });

  it("answers 503 for a create inside an interactive transaction and creates nothing", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const client = outageClient();
    const name = `killed-${crypto.randomUUID()}`;
    // The new task's foreign key to its agent waits for the agent's row lock.
    const response = await killWhileBlocked("SELECT 1 FROM agents WHERE id = $1 FOR UPDATE", [agentId], () =>
      callAs(client, owner)("POST", "/v1/tasks", { agent_id: agentId, type: "t", name }),
    );
    expectUnavailable(response);
    expect((await callAs(testApp.client, owner)("GET", `/v1/tasks/by-name/${name}`)).status).toBe(404);
  });

  it("logs each of those failures by class and code, without the statement or its values", () => {
    const entries = logLines.map((line) => JSON.parse(line) as Json);
    const unavailable = entries.filter((entry) => entry.event === "dependency.unavailable");
    expect(unavailable.length).toBeGreaterThanOrEqual(3);
    for (const entry of unavailable) {
      expect(entry).toMatchObject({ level: "warn", code: "db_unavailable", error_name: "DrizzleQueryError" });
      // The cause is the server's 57P01 (NeonDbError over HTTP, pg's DatabaseError on a transaction's
      // WebSocket) or the driver's own words about the dead connection.
      expect([entry.cause]).toEqual([
        expect.objectContaining(
          (entry.cause as Json).error_code === "57P01"
            ? {
                error_name: expect.stringMatching(/^(NeonDbError|DatabaseError)$/),
                error_code: "57P01",
                db_severity: "FATAL",
              }
            : {
                error_name: "Error",
                error_message: expect.stringMatching(/^(Connection terminated|Client has)/),
              },
        ),
      ]);
    }
    const logged = logLines.join("\n");
    expect(logged).not.toMatch(/Failed query|params:|UPDATE tasks|INSERT INTO|kill me|killed-/);
  });
});

async function backendPid(session: Client): Promise<number> {
  const { rows } = await session.query("SELECT pg_backend_pid() AS pid");
  return Number(rows[0].pid);
}

async function waitForLockWaiter(watcher: Client, database: string, holderPid: number): Promise<number> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const { rows } = await watcher.query(
      `SELECT pid FROM pg_stat_activity
        WHERE datname = $1 AND wait_event_type = 'Lock' AND $2 = ANY (pg_blocking_pids(pid))`,
      [database, holderPid],
    );
    if (rows.length === 1) return Number(rows[0].pid);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("the request never blocked on the held lock");
}
