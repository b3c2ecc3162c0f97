// The spicedb backend inside workerd: the Worker reaches a real SpiceDB by plain fetch.
import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { spicedbForFile } from "../support/spicedb.ts";
import { createTestClient, type TestClient } from "../support/test-client.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-database.ts";

describe("the Worker inside workerd, with the spicedb backend", () => {
  const spicedb = spicedbForFile();
  let database: TestDatabase;
  let client: TestClient;
  beforeAll(async () => {
    database = await createTestDatabase();
    client = createTestClient(worker, { ...env, DATABASE_URL: database.url, ...spicedb.bindings });
  });
  afterAll(() => database.drop());

  it("registers an agent in SpiceDB and enforces it on reads", async () => {
    const owner = await createAccountWithPrincipal(client);
    const created = await client.request<{ id: string }>("POST", "/v1/agents", {
      token: owner.token,
      body: { name: "in-workerd" },
    });
    expect(created.status).toBe(201);
    expect(await spicedb.edges("agent")).toEqual([
      `agent:${created.body.id}#account@account:${owner.accountId}`,
      expect.stringMatching(new RegExp(`^agent:${created.body.id}#owner@user:`)),
    ]);
    expect(
      (await client.request("GET", `/v1/agents/${created.body.id}`, { token: owner.token })).status,
    ).toBe(200);
    const stranger = await createAccountWithPrincipal(client, { role: "admin" });
    expect(
      (await client.request("GET", `/v1/agents/${created.body.id}`, { token: stranger.token })).status,
    ).toBe(404);
  });
});
