// The input boundary inside workerd (ADR 0014): the runtime's own Request, TextDecoder and string
// methods refuse what PostgreSQL cannot store, exactly as in Node.
import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import { createAccountWithPrincipal, type TestPrincipal } from "../support/factories.ts";
import { createTestClient, type TestClient } from "../support/test-client.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-database.ts";

describe("the input boundary inside workerd", () => {
  let database: TestDatabase;
  let client: TestClient;
  let owner: TestPrincipal;
  beforeAll(async () => {
    database = await createTestDatabase();
    client = createTestClient(worker, { ...env, DATABASE_URL: database.url });
    owner = await createAccountWithPrincipal(client);
  });
  afterAll(() => database.drop());

  const post = (path: string, rawBody: BodyInit) =>
    client.request<{ code: string; errors?: { pointer: string }[] }>("POST", path, {
      token: owner.token,
      rawBody,
      headers: { "content-type": "application/json" },
    });

  it.each([
    ["an unpaired surrogate", '{"name":"a\\ud800"}'],
    ["a NUL", '{"name":"a\\u0000"}'],
    ["1e400", '{"name":"n","metadata":{"x":1e400}}'],
  ])("refuses %s in a body with 422 naming the field", async (_label, text) => {
    const response = await post("/v1/agents", text);
    expect(response.status).toBe(422);
    expect(response.body.code).toBe("validation_failed");
    expect(response.body.errors?.[0]?.pointer).toMatch(/^\/(name|metadata\/x)$/);
  });

  it("refuses a body that is not UTF-8 with 400", async () => {
    const bytes = new Uint8Array([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]);
    const response = await post("/v1/agents", bytes);
    expect(response.status).toBe(400);
    expect(response.body.code).toBe("malformed_request");
  });

  it("answers %00 in a path id with 400 and a malformed id with 404", async () => {
    const nul = await client.request<{ code: string }>("GET", "/v1/tasks/tsk_%00", { token: owner.token });
    expect(nul.status).toBe(400);
    const quote = await client.request<{ code: string }>("GET", "/v1/tasks/tsk_x'%20OR%20'1'='1", {
      token: owner.token,
    });
    expect(quote.status).toBe(404);
    expect(quote.body.code).toBe("not_found");
  });

  it("stores an emoji name as sent", async () => {
    const response = await post("/v1/agents", JSON.stringify({ name: "\u{1F600}\u2028\u05E9" }));
    expect(response.status).toBe(201);
    expect((response.body as unknown as { name: string }).name).toBe("\u{1F600}\u2028\u05E9");
  });
});
