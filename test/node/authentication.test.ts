import { describe, expect, it } from "vitest";
import { connectSession } from "../../scripts/local/database-url.ts";
import { createApp } from "../../src/app.ts";
import { testBindings } from "../support/bindings.ts";
import {
  adminToken,
  createAccount,
  createAccountWithPrincipal,
  createPrincipal,
} from "../support/factories.ts";
import { useTestApp } from "../support/test-app.ts";
import { createTestClient, type TestClient } from "../support/test-client.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-database.ts";

describe("authentication and the admin API", () => {
  const testApp = useTestApp();

  const whoAmI = (token?: string) => testApp.client.request("GET", "/v1/principal", token ? { token } : {});

  it("creates an account and a key whose token authenticates as its principal", async () => {
    const accountId = await createAccount(testApp.client, "acme");
    const issued = await testApp.client.request<Record<string, unknown>>("POST", "/v1/admin/api-keys", {
      token: adminToken(testApp.client),
      body: {
        account_id: accountId,
        principal: { type: "service_account", id: "svc:billing" },
        role: "admin",
      },
    });
    expect(issued.status).toBe(201);
    expect(issued.body).toMatchObject({
      account_id: accountId,
      principal: { type: "service_account", id: "svc:billing" },
      role: "admin",
      revoked_at: null,
    });
    expect(issued.body.key).toMatch(new RegExp(`^lh_${issued.body.id}_[0-9a-f]{64}$`));

    const me = await whoAmI(issued.body.key as string);
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      account_id: accountId,
      type: "service_account",
      id: "svc:billing",
      role: "admin",
      key_id: issued.body.id,
    });
  });

  it("stores only a hash of the secret", async () => {
    const principal = await createAccountWithPrincipal(testApp.client);
    const secret = principal.token.split("_").at(-1) as string;
    const session = await connectSession(testApp.database.url, testApp.database.proxy);
    try {
      const { rows } = await session.query("SELECT to_jsonb(k)::text AS row FROM api_keys k WHERE id = $1", [
        principal.keyId,
      ]);
      expect(rows[0].row).not.toContain(secret);
      expect(rows[0].row).not.toContain(principal.token);
    } finally {
      await session.end();
    }
  });

  it("rejects a revoked key at once, and revoking again is idempotent", async () => {
    const principal = await createAccountWithPrincipal(testApp.client);
    expect((await whoAmI(principal.token)).status).toBe(200);
    const revoke = () =>
      testApp.client.request("DELETE", `/v1/admin/api-keys/${principal.keyId}`, {
        token: adminToken(testApp.client),
      });
    expect((await revoke()).status).toBe(204);
    expect((await whoAmI(principal.token)).status).toBe(401);
    expect((await revoke()).status).toBe(204);
  });

  it("answers 404 when revoking a key that does not exist", async () => {
    const response = await testApp.client.request(
      "DELETE",
      "/v1/admin/api-keys/key_01m8000000000000000000000",
      {
        token: adminToken(testApp.client),
      },
    );
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ code: "not_found" });
  });

  it.each([
    ["no header", undefined],
    ["an empty bearer", "Bearer "],
    ["another scheme", "Basic dXNlcjpwYXNz"],
    ["garbage", "Bearer not-a-key"],
    ["an unknown key id", "Bearer lh_key_01m8000000000000000000000_" + "0".repeat(64)],
  ])("answers 401 with a problem body for %s", async (_label, header) => {
    const response = await testApp.client.request(
      "GET",
      "/v1/principal",
      header ? { headers: { authorization: header } } : {},
    );
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.headers.get("www-authenticate")).toContain("Bearer");
    expect(response.body).toMatchObject({ code: "unauthenticated", status: 401 });
  });

  it("answers 401 for a real key id with the wrong secret", async () => {
    const principal = await createAccountWithPrincipal(testApp.client);
    const forged = principal.token.replace(/[0-9a-f]{64}$/, "f".repeat(64));
    expect((await whoAmI(forged)).status).toBe(401);
  });

  it("keeps the admin token to /v1/admin and API keys out of it", async () => {
    const principal = await createAccountWithPrincipal(testApp.client, { role: "admin" });
    for (const [method, path, body] of [
      ["POST", "/v1/admin/accounts", { name: "x" }],
      [
        "POST",
        "/v1/admin/api-keys",
        { account_id: principal.accountId, principal: { type: "user", id: "x" }, role: "admin" },
      ],
      ["DELETE", `/v1/admin/api-keys/${principal.keyId}`, undefined],
    ] as const) {
      const response = await testApp.client.request(method, path, {
        token: principal.token,
        ...(body ? { body } : {}),
      });
      expect(response.status, `${method} ${path}`).toBe(401);
    }
    expect((await whoAmI(principal.token)).status).toBe(200);
    expect((await whoAmI(adminToken(testApp.client))).status).toBe(401);
    expect(
      (await testApp.client.request("POST", "/v1/admin/accounts", { token: "wrong", body: { name: "x" } }))
        .status,
    ).toBe(401);
  });

  it("refuses a key for an account that does not exist with a field error", async () => {
    const response = await testApp.client.request("POST", "/v1/admin/api-keys", {
      token: adminToken(testApp.client),
      body: { account_id: "acc_missing", principal: { type: "user", id: "u" }, role: "member" },
    });
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({
      code: "validation_failed",
      errors: [{ location: "body", pointer: "/account_id", message: "No such account." }],
    });
  });

  it("gives each principal of an account its own key and role", async () => {
    const accountId = await createAccount(testApp.client);
    const admin = await createPrincipal(testApp.client, accountId, { role: "admin" });
    const member = await createPrincipal(testApp.client, accountId, {
      role: "member",
      type: "service_account",
      id: "bot",
    });
    expect((await whoAmI(admin.token)).body).toMatchObject({ role: "admin", type: "user" });
    expect((await whoAmI(member.token)).body).toMatchObject({
      role: "member",
      type: "service_account",
      id: "bot",
    });
  });
});
