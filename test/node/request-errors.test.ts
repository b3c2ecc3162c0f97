import { describe, expect, it } from "vitest";
import { connectSession } from "../../scripts/local/database-url.ts";
import { freePort } from "../../scripts/local/embedded-postgres.ts";
import { createApp } from "../../src/app.ts";
import { openDatabase } from "../../src/db/client.ts";
import { toDomainError } from "../../src/errors/to-domain-error.ts";
import { testBindings } from "../support/bindings.ts";
import { adminToken } from "../support/factories.ts";
import { useTestApp } from "../support/test-app.ts";
import { createTestClient, type TestClient } from "../support/test-client.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-database.ts";

describe("request errors", () => {
  const testApp = useTestApp();

  async function accountCount(): Promise<number> {
    const session = await connectSession(testApp.database.url, testApp.database.proxy);
    try {
      return (await session.query("SELECT count(*)::int AS n FROM accounts")).rows[0].n;
    } finally {
      await session.end();
    }
  }

  const createAccount = (options: Parameters<TestClient["request"]>[2]) =>
    testApp.client.request<Record<string, unknown>>("POST", "/v1/admin/accounts", {
      token: adminToken(testApp.client),
      ...options,
    });

  it.each([
    [
      "malformed JSON",
      { rawBody: '{"name":', headers: { "content-type": "application/json" } },
      400,
      "malformed_request",
    ],
    [
      "a text/plain body",
      { rawBody: '{"name":"x"}', headers: { "content-type": "text/plain" } },
      400,
      "malformed_request",
    ],
    [
      "a form body",
      { rawBody: "name=x", headers: { "content-type": "application/x-www-form-urlencoded" } },
      400,
      "malformed_request",
    ],
    ["a body without content type", { rawBody: '{"name":"x"}' }, 400, "malformed_request"],
    ["a body over 256 KiB", { body: { name: "x".repeat(300 * 1024) } }, 413, "payload_too_large"],
    ["an empty name", { body: { name: "" } }, 422, "validation_failed"],
    ["an unknown field", { body: { name: "x", plan: "gold" } }, 422, "validation_failed"],
    ["a JSON array", { body: [] }, 422, "validation_failed"],
    ["no body at all", {}, 422, "validation_failed"],
  ])("answers %s with problem+json %i %s and changes nothing", async (_label, options, status, code) => {
    const before = await accountCount();
    const response = await createAccount(options as Parameters<TestClient["request"]>[2]);
    expect(response.status).toBe(status);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.body).toMatchObject({ code, status, request_id: response.headers.get("x-request-id") });
    expect(response.body.type).toMatch(/^https:\/\//);
    expect(await accountCount()).toBe(before);
  });

  it("rejects a streamed body over the limit that declares no length", async () => {
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 6) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const response = await createTestClient(createApp(), testApp.client.env).request(
      "POST",
      "/v1/admin/accounts",
      {
        token: adminToken(testApp.client),
        rawBody: stream,
        headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
      },
    );
    expect(response.status).toBe(413);
  });

  it("points field errors at the offending values", async () => {
    const response = await testApp.client.request<{ errors: unknown[] }>("POST", "/v1/admin/api-keys", {
      token: adminToken(testApp.client),
      body: { account_id: "acc_x", principal: { type: "robot", id: "" }, role: "owner" },
    });
    expect(response.status).toBe(422);
    expect(response.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ location: "body", pointer: "/principal/type" }),
        expect.objectContaining({ location: "body", pointer: "/principal/id" }),
        expect.objectContaining({ location: "body", pointer: "/role" }),
      ]),
    );
  });

  it("answers unknown routes 404 with the same body as a missing resource", async () => {
    const route = await testApp.client.request<Record<string, unknown>>("GET", "/no/such/route");
    const resource = await testApp.client.request<Record<string, unknown>>(
      "DELETE",
      "/v1/admin/api-keys/key_01m8000000000000000000000",
      { token: adminToken(testApp.client) },
    );
    expect(route.status).toBe(404);
    expect(resource.status).toBe(404);
    const { request_id: _a, ...routeBody } = route.body;
    const { request_id: _b, ...resourceBody } = resource.body;
    expect(routeBody).toEqual(resourceBody);
  });

  it("echoes a well-formed inbound x-request-id and replaces a malformed one", async () => {
    const echoed = await testApp.client.request("GET", "/health", {
      headers: { "x-request-id": "trace-abc_123" },
    });
    expect(echoed.headers.get("x-request-id")).toBe("trace-abc_123");
    const replaced = await testApp.client.request("GET", "/health", {
      headers: { "x-request-id": "bad id; drop table" },
    });
    expect(replaced.headers.get("x-request-id")).toMatch(/^req_/);
  });

  it("answers an unexpected failure 500 with a generic detail, the real error only in the log", async () => {
    const lines: string[] = [];
    const app = createApp({
      logSink: (line) => lines.push(line),
      openDatabase: (settings, onError) => {
        const handle = openDatabase(settings, onError);
        const failure = new Error("relation secret_table_x does not exist at char 42");
        handle.db.execute = (() => Promise.reject(failure)) as unknown as typeof handle.db.execute;
        return handle;
      },
    });
    const response = await createTestClient(app, testApp.client.env).request<Record<string, unknown>>(
      "GET",
      "/ready",
    );
    expect(response.status).toBe(500);
    expect(response.body).toMatchObject({ code: "internal", detail: expect.stringContaining("request id") });
    expect(response.text).not.toContain("secret_table_x");
    expect(response.text).not.toMatch(/stack|at .*\.ts/);
    const failure = lines.map((line) => JSON.parse(line)).find((entry) => entry.event === "request.failed");
    expect(failure).toMatchObject({
      request_id: response.body.request_id,
      error_message: expect.stringContaining("secret_table_x"),
    });
  });

  it("answers 503 db_unavailable with Retry-After when the database cannot be reached", async () => {
    const deadPort = await freePort();
    const app = createApp({ logSink: () => {} });
    const response = await createTestClient(app, {
      ...testApp.client.env,
      DATABASE_WS_PROXY: `127.0.0.1:${deadPort}`,
    }).request("GET", "/ready");
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ code: "db_unavailable" });
    expect(response.headers.get("retry-after")).toBe("1");
  });

  it("classifies a connection the server terminated as db_unavailable", async () => {
    const session = await connectSession(testApp.database.url, testApp.database.proxy);
    const error = await session
      .query("SELECT pg_terminate_backend(pg_backend_pid())")
      .catch((e: unknown) => e);
    await session.end().catch(() => {});
    expect(toDomainError(error)?.code).toBe("db_unavailable");
    expect(toDomainError(new Error("duplicate key value"))).toBeUndefined();
  });
});
