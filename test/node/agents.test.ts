import { describe, expect, it } from "vitest";
import { createAccount, createAccountWithPrincipal, createPrincipal } from "../support/factories.ts";
import { useTestApp } from "../support/test-app.ts";

describe("agents", () => {
  const testApp = useTestApp();
  const call = (
    method: string,
    path: string,
    token: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) =>
    testApp.client.request<Record<string, unknown>>(method, path, {
      token,
      ...(body === undefined ? {} : { body }),
      ...(headers ? { headers } : {}),
    });

  it("creates an agent owned by its creator and reads it back", async () => {
    const alice = await createAccountWithPrincipal(testApp.client);
    const created = await call("POST", "/v1/agents", alice.token, {
      name: "summarizer",
      metadata: { tier: "gold" },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: expect.stringMatching(/^agt_/),
      name: "summarizer",
      metadata: { tier: "gold" },
      created_by: { type: "user", id: alice.id },
    });
    const read = await call("GET", `/v1/agents/${created.body.id}`, alice.token);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
  });

  it("refuses a second agent with the same name in the account", async () => {
    const alice = await createAccountWithPrincipal(testApp.client);
    expect((await call("POST", "/v1/agents", alice.token, { name: "dup" })).status).toBe(201);
    const again = await call("POST", "/v1/agents", alice.token, { name: "dup" });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("name_taken");
  });

  it("replays a create with the same Idempotency-Key and refuses a different body", async () => {
    const alice = await createAccountWithPrincipal(testApp.client);
    const headers = { "idempotency-key": "create-agent-1" };
    const first = await call("POST", "/v1/agents", alice.token, { name: "idem" }, headers);
    const replay = await call("POST", "/v1/agents", alice.token, { name: "idem" }, headers);
    expect(first.status).toBe(201);
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    const reused = await call("POST", "/v1/agents", alice.token, { name: "other" }, headers);
    expect(reused.status).toBe(409);
    expect(reused.body.code).toBe("idempotency_key_reused");
    const list = await call("GET", "/v1/agents", alice.token);
    expect((list.body.items as unknown[]).length).toBe(1);
  });

  it("shows members only their own and granted agents; admins see all", async () => {
    const accountId = await createAccount(testApp.client);
    const alice = await createPrincipal(testApp.client, accountId);
    const bob = await createPrincipal(testApp.client, accountId);
    const admin = await createPrincipal(testApp.client, accountId, { role: "admin" });
    const mine = (await call("POST", "/v1/agents", alice.token, { name: "alice-agent" })).body.id as string;
    const shared = (await call("POST", "/v1/agents", alice.token, { name: "shared-agent" })).body
      .id as string;
    const grant = await call("POST", `/v1/agents/${shared}/grants`, alice.token, {
      subject: { type: "user", id: bob.id },
      relation: "viewer",
    });
    expect(grant.status).toBe(200);
    const ids = async (token: string) =>
      ((await call("GET", "/v1/agents", token)).body.items as { id: string }[])
        .map((item) => item.id)
        .toSorted();
    expect(await ids(alice.token)).toEqual([mine, shared].toSorted());
    expect(await ids(bob.token)).toEqual([shared]);
    expect(await ids(admin.token)).toEqual([mine, shared].toSorted());
    expect((await call("GET", `/v1/agents/${mine}`, bob.token)).status).toBe(404);
    expect((await call("DELETE", `/v1/agents/${shared}`, bob.token)).status).toBe(403);
    const revoke = await call("DELETE", `/v1/agents/${shared}/grants`, alice.token, {
      subject: { type: "user", id: bob.id },
      relation: "viewer",
    });
    expect(revoke.status).toBe(204);
    expect(await ids(bob.token)).toEqual([]);
  });

  it("pages through agents with a cursor", async () => {
    const alice = await createAccountWithPrincipal(testApp.client);
    for (let i = 0; i < 5; i++) await call("POST", "/v1/agents", alice.token, { name: `agent-${i}` });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: Record<string, unknown> } = await call(
        "GET",
        `/v1/agents?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        alice.token,
      );
      seen.push(...(page.body.items as { name: string }[]).map((item) => item.name));
      cursor = page.body.next_cursor as string | null;
    } while (cursor);
    expect(seen).toEqual(["agent-4", "agent-3", "agent-2", "agent-1", "agent-0"]);
    expect((await call("GET", "/v1/agents?cursor=garbage", alice.token)).status).toBe(422);
  });

  it("refuses a worker grant to a user", async () => {
    const alice = await createAccountWithPrincipal(testApp.client);
    const agent = (await call("POST", "/v1/agents", alice.token, { name: "a" })).body.id as string;
    const response = await call("POST", `/v1/agents/${agent}/grants`, alice.token, {
      subject: { type: "user", id: "someone" },
      relation: "worker",
    });
    expect(response.status).toBe(422);
  });

  it("hides another account's agent behind the same 404 as a missing one", async () => {
    const alice = await createAccountWithPrincipal(testApp.client, { role: "admin" });
    const mallory = await createAccountWithPrincipal(testApp.client, { role: "admin" });
    const agent = (await call("POST", "/v1/agents", alice.token, { name: "secret" })).body.id as string;
    const foreign = await call("GET", `/v1/agents/${agent}`, mallory.token);
    const missing = await call("GET", "/v1/agents/agt_01m8000000000000000000000", mallory.token);
    expect(foreign.status).toBe(404);
    const strip = ({ request_id: _, ...rest }: Record<string, unknown>) => rest;
    expect(strip(foreign.body)).toEqual(strip(missing.body));
    expect((await call("DELETE", `/v1/agents/${agent}`, mallory.token)).status).toBe(404);
  });
});
