import { randomHex } from "../../src/lib/crypto.ts";
import type { TestClient } from "./test-client.ts";

export interface TestPrincipal {
  accountId: string;
  type: "user" | "service_account";
  id: string;
  role: "admin" | "member";
  keyId: string;
  token: string;
}

export function adminToken(client: TestClient): string {
  return client.env.ADMIN_TOKEN as string;
}

export async function createAccount(client: TestClient, name = `account-${randomHex(4)}`): Promise<string> {
  const response = await client.request<{ id: string }>("POST", "/v1/admin/accounts", {
    token: adminToken(client),
    body: { name },
  });
  if (response.status !== 201) throw new Error(`account create failed: ${response.status} ${response.text}`);
  return response.body.id;
}

export async function createPrincipal(
  client: TestClient,
  accountId: string,
  options: { role?: "admin" | "member"; type?: "user" | "service_account"; id?: string } = {},
): Promise<TestPrincipal> {
  const principal = { type: options.type ?? "user", id: options.id ?? `user-${randomHex(4)}@example.com` };
  const role = options.role ?? "member";
  const response = await client.request<{ id: string; key: string }>("POST", "/v1/admin/api-keys", {
    token: adminToken(client),
    body: { account_id: accountId, principal, role },
  });
  if (response.status !== 201) throw new Error(`key create failed: ${response.status} ${response.text}`);
  return { accountId, ...principal, role, keyId: response.body.id, token: response.body.key };
}

/** A fresh account with one principal holding a key. */
export async function createAccountWithPrincipal(
  client: TestClient,
  options: { role?: "admin" | "member" } = {},
): Promise<TestPrincipal> {
  return createPrincipal(client, await createAccount(client), options);
}
