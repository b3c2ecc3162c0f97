// DESIGN §14: logs never hold query parameters, payloads or secrets; database errors are logged
// by code. A request fails on a real PostgreSQL error raised by a statement that carries a marker
// (and the principal's e-mail) as parameters; the marker must appear in no log line and not in
// the response.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { openDatabase } from "../../src/db/client.ts";
import { randomHex } from "../../src/lib/crypto.ts";
import { summarizeError } from "../../src/observability/logger.ts";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { callAs, createAgent, createTask, type Json } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";
import { createTestClient } from "../support/test-client.ts";

describe("database errors in logs", () => {
  const testApp = useTestApp();
  const marker = `secret-${randomHex(8)}`;

  /**
   * The app, with each statement whose parameters hold the marker replaced, on the request's own
   * pool, by `failing` with the marker as its parameter: the server's real error, which drizzle
   * then wraps with the original statement and parameters.
   */
  function appFailingOn(failing: string, lines: string[]) {
    return createApp({
      logSink: (line) => lines.push(line),
      openDatabase: (settings, onError) =>
        openDatabase(settings, onError, {
          statement: ({ params }) =>
            JSON.stringify(params).includes(marker) ? { text: failing, params: [marker] } : undefined,
        }),
    });
  }

  async function cancelWithMarker(failing: string) {
    const owner = await createAccountWithPrincipal(testApp.client);
    const taskId = await createTask(testApp.client, owner, await createAgent(testApp.client, owner));
    const lines: string[] = [];
    const client = createTestClient(appFailingOn(failing, lines), testApp.client.env);
    const response = await callAs(client, owner)("POST", `/v1/tasks/${taskId}/cancel`, {
      reason: `reason ${marker}`,
    });
    return { owner, response, lines, entries: lines.map((line) => JSON.parse(line) as Json) };
  }

  it("logs a failed statement's error by code, with neither its values nor its text (500)", async () => {
    // PostgreSQL quotes the offending value in this message: invalid input syntax … "secret-…".
    const { owner, response, lines, entries } = await cancelWithMarker("SELECT $1::int");
    expect(response.status).toBe(500);
    expect(response.text).not.toContain(marker);
    const failed = entries.find((entry) => entry.event === "request.failed");
    expect(failed).toMatchObject({
      error_name: "DrizzleQueryError",
      cause: { error_name: "NeonDbError", error_code: "22P02", db_severity: "ERROR" },
    });
    expect(failed?.error_message).toBeUndefined();
    expect(failed?.stack).toMatch(/^at /);
    const logged = lines.join("\n");
    expect(logged).not.toContain(marker);
    expect(logged).not.toContain(owner.id);
    expect(logged).not.toMatch(/Failed query|params:|invalid input syntax|UPDATE tasks/);
  });

  it("logs an outage by code too (503)", async () => {
    const { owner, response, lines, entries } = await cancelWithMarker(
      "SELECT pg_terminate_backend(pg_backend_pid()), $1::text",
    );
    expect(response.status).toBe(503);
    expect(response.body.code).toBe("db_unavailable");
    expect(entries.find((entry) => entry.event === "dependency.unavailable")).toMatchObject({
      error_name: "DrizzleQueryError",
      cause: { error_name: "NeonDbError", error_code: "57P01" },
    });
    const logged = lines.join("\n");
    expect(logged).not.toContain(marker);
    expect(logged).not.toContain(owner.id);
    expect(logged).not.toMatch(/Failed query|params:|terminating connection/);
  });

  it("summarizes an error for operators the same way: class and code, no values", async () => {
    const lines: string[] = [];
    const handle = openDatabase(
      { databaseUrl: testApp.database.url, databaseWsProxy: testApp.database.proxy },
      () => {},
    );
    try {
      const error = await handle.db.execute(sql`SELECT ${marker}::int`).catch((e: unknown) => e);
      const summary = summarizeError(error);
      lines.push(summary);
      expect(summary).toBe("DrizzleQueryError <- NeonDbError 22P02");
      expect(summarizeError(new Error("SpiceDB answered 503"))).toBe("Error: SpiceDB answered 503");
    } finally {
      await handle.close();
    }
    expect(lines.join("\n")).not.toContain(marker);
  });
});
