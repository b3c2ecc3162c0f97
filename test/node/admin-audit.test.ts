// The admin API under two tokens (rotation without a cut-over) and its audit trail (DESIGN §14).
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { openDatabase } from "../../src/db/client.ts";
import { randomHex } from "../../src/lib/crypto.ts";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { queryRows } from "../support/graph.ts";
import { useTestApp } from "../support/test-app.ts";
import { createTestClient, type TestResponse } from "../support/test-client.ts";

interface AuditRow {
  action: string;
  token_slot: string;
  request_id: string;
  account_id: string | null;
  target_type: string | null;
  target_id: string | null;
  detail: Record<string, unknown>;
}

describe("admin tokens and the audit trail", () => {
  const nextToken = `nxt_${randomHex(24)}`;
  const testApp = useTestApp({}, { ADMIN_TOKEN_NEXT: nextToken });
  const currentToken = () => testApp.client.env.ADMIN_TOKEN as string;

  const admin = <T = Record<string, unknown>>(token: string, method: string, path: string, body?: unknown) =>
    testApp.client.request<T>(method, path, { token, ...(body === undefined ? {} : { body }) });
  const auditRows = () =>
    queryRows<AuditRow>(
      testApp.database,
      "SELECT action, token_slot, request_id, account_id, target_type, target_id, detail FROM admin_audit_events ORDER BY id",
    );
  const auditFor = async (response: TestResponse) => {
    const rows = (await auditRows()).filter((row) => row.request_id === response.headers.get("x-request-id"));
    expect(rows, "exactly one audit row for the request").toHaveLength(1);
    return rows[0] as AuditRow;
  };

  it("accepts ADMIN_TOKEN and ADMIN_TOKEN_NEXT, and records which one acted", async () => {
    const byCurrent = await admin<{ id: string }>(currentToken(), "POST", "/v1/admin/accounts", {
      name: "a",
    });
    const byNext = await admin<{ id: string }>(nextToken, "POST", "/v1/admin/accounts", { name: "b" });
    expect([byCurrent.status, byNext.status]).toEqual([201, 201]);
    expect(await auditFor(byCurrent)).toMatchObject({
      action: "POST /v1/admin/accounts",
      token_slot: "current",
      account_id: byCurrent.body.id,
      target_type: "account",
      target_id: byCurrent.body.id,
      detail: { status: 201 },
    });
    expect(await auditFor(byNext)).toMatchObject({ token_slot: "next", target_id: byNext.body.id });
  });

  it("refuses any other credential with 401 and records no action for it", async () => {
    const before = (await auditRows()).length;
    const key = await createAccountWithPrincipal(testApp.client, { role: "admin" });
    const afterSetup = (await auditRows()).length;
    expect(afterSetup - before).toBe(2); // the account and the key it took to set this test up
    for (const token of [
      `${currentToken()}x`,
      nextToken.slice(0, -1),
      key.token,
      "x".repeat(40),
      undefined,
    ] as const) {
      const response = await testApp.client.request("POST", "/v1/admin/accounts", {
        ...(token ? { token } : {}),
        body: { name: "nope" },
      });
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ code: "unauthenticated" });
    }
    expect((await auditRows()).length).toBe(afterSetup);
  });

  it("leaves one row per admin route, with the slot, status and target, and no secret anywhere", async () => {
    const account = await admin<{ id: string }>(nextToken, "POST", "/v1/admin/accounts", { name: "audited" });
    const issued = await admin<{ id: string; key: string }>(currentToken(), "POST", "/v1/admin/api-keys", {
      account_id: account.body.id,
      principal: { type: "user", id: "auditor@example.com" },
      role: "admin",
    });
    const backfill = await admin(nextToken, "POST", "/v1/admin/authz/backfill", { resource_type: "account" });
    const outbox = await admin(currentToken(), "GET", "/v1/admin/authz/outbox?limit=5");
    const revoke = await admin(nextToken, "DELETE", `/v1/admin/api-keys/${issued.body.id}`);
    const missing = await admin(currentToken(), "DELETE", "/v1/admin/api-keys/key_01m8000000000000000000000");
    const invalid = await admin(nextToken, "POST", "/v1/admin/api-keys", {
      account_id: account.body.id,
      principal: { type: "robot", id: "r" },
      role: "admin",
    });
    expect([issued, backfill, outbox, revoke, missing, invalid].map((r) => r.status)).toEqual([
      201, 200, 200, 204, 404, 422,
    ]);

    expect(await auditFor(issued)).toMatchObject({
      action: "POST /v1/admin/api-keys",
      token_slot: "current",
      account_id: account.body.id,
      target_type: "api_key",
      target_id: issued.body.id,
      detail: { status: 201 },
    });
    expect(await auditFor(backfill)).toMatchObject({
      action: "POST /v1/admin/authz/backfill",
      token_slot: "next",
      target_id: null,
      detail: { status: 200, result: { scanned: expect.any(Number), edges: expect.any(Number) } },
    });
    expect(await auditFor(outbox)).toMatchObject({
      action: "GET /v1/admin/authz/outbox",
      token_slot: "current",
      detail: { status: 200 },
    });
    expect(await auditFor(revoke)).toMatchObject({
      action: "DELETE /v1/admin/api-keys/:id",
      token_slot: "next",
      target_type: "api_key",
      target_id: issued.body.id,
      detail: { status: 204 },
    });
    expect(await auditFor(missing)).toMatchObject({
      action: "DELETE /v1/admin/api-keys/:id",
      detail: { status: 404, code: "not_found" },
    });
    expect(await auditFor(invalid)).toMatchObject({
      action: "POST /v1/admin/api-keys",
      detail: { status: 422, code: "validation_failed" },
    });

    const secrets = [currentToken(), nextToken, issued.body.key, issued.body.key.split("_").at(-1) as string];
    const everyColumn = await queryRows<{ row: string }>(
      testApp.database,
      "SELECT to_jsonb(a)::text AS row FROM admin_audit_events a",
    );
    expect(everyColumn.length).toBeGreaterThanOrEqual(7);
    for (const { row } of everyColumn) for (const secret of secrets) expect(row).not.toContain(secret);
  });

  it("records no action for an admin path that matches no route", async () => {
    const before = (await auditRows()).length;
    const response = await admin(currentToken(), "GET", "/v1/admin/nothing-here");
    expect(response.status).toBe(404);
    expect((await auditRows()).length).toBe(before);
  });

  it("logs a failed audit write at error level and keeps the action's answer", async () => {
    const lines: string[] = [];
    const app = createApp({
      logSink: (line) => lines.push(line),
      openDatabase: (settings, onError) =>
        openDatabase(settings, onError, {
          statement: ({ text }) => {
            if (text.includes("admin_audit_events")) throw new Error("audit table unavailable");
            return undefined;
          },
        }),
    });
    const client = createTestClient(app, testApp.client.env);
    const response = await client.request<{ id: string }>("POST", "/v1/admin/accounts", {
      token: currentToken(),
      body: { name: "unaudited" },
    });
    expect(response.status).toBe(201);
    const exists = await queryRows(testApp.database, "SELECT 1 FROM accounts WHERE id = $1", [
      response.body.id,
    ]);
    expect(exists).toHaveLength(1);
    expect(lines.map((line) => JSON.parse(line)).find((e) => e.event === "admin.audit_failed")).toMatchObject(
      {
        level: "error",
        action: "POST /v1/admin/accounts",
        status: 201,
      },
    );
  });
});
