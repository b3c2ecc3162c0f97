// The Rate Limiting bindings of wrangler.toml inside workerd (miniflare's implementation, limits
// lowered in vitest.config.ts): 429 `rate_limited` with Retry-After once a key or an address is over.
import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { workersSuiteRateLimit } from "../support/rate-limits.ts";
import { createTestClient, type TestClient, type TestResponse } from "../support/test-client.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-database.ts";

// Windows are aligned to the clock, so a run may straddle two: within 2 × limit + 1 requests one
// is refused for sure, and never before `limit` requests have passed.
async function untilRefused(send: () => Promise<TestResponse>) {
  const passed: number[] = [];
  for (let i = 0; i <= 2 * workersSuiteRateLimit; i++) {
    const response = await send();
    if (response.status === 429) return { passed, refused: response };
    passed.push(response.status);
  }
  throw new Error(`no 429 after ${passed.length} requests`);
}

function randomAddress(): string {
  const [a, b] = crypto.getRandomValues(new Uint8Array(2));
  return `198.51.${a}.${b}`;
}

describe("rate limits inside workerd", () => {
  let database: TestDatabase;
  let client: TestClient;
  beforeAll(async () => {
    database = await createTestDatabase();
    client = createTestClient(worker, { ...env, DATABASE_URL: database.url });
  });
  afterAll(() => database.drop());

  it("binds both limiters from wrangler.toml", () => {
    for (const name of ["RATE_LIMIT_BY_KEY", "RATE_LIMIT_BY_ADDRESS"]) {
      expect(typeof (env as Record<string, { limit?: unknown }>)[name]?.limit, name).toBe("function");
    }
  });

  it("refuses an API key over its limit with 429 and Retry-After, and leaves other keys alone", async () => {
    const principal = await createAccountWithPrincipal(client);
    const other = await createAccountWithPrincipal(client);
    const { passed, refused } = await untilRefused(() =>
      client.request("GET", "/v1/principal", { token: principal.token }),
    );
    expect(passed.length).toBeGreaterThanOrEqual(workersSuiteRateLimit);
    expect(new Set(passed)).toEqual(new Set([200]));
    expect(refused.headers.get("retry-after")).toBe("60");
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(refused.body).toMatchObject({ code: "rate_limited", status: 429 });
    expect(refused.text).not.toContain(principal.token);
    expect(refused.text).not.toContain(principal.keyId);

    expect((await client.request("GET", "/v1/principal", { token: other.token })).status).toBe(200);
  });

  it("refuses a client address over its limit before authentication, whatever it presents", async () => {
    const address = randomAddress();
    const unknownKey = () =>
      `lh_key_01m8${Array.from({ length: 22 }, () => "0123456789abcdefghjkmnpqrstvwxyz"[Math.floor(Math.random() * 32)]).join("")}_${"0".repeat(64)}`;
    const { passed, refused } = await untilRefused(() =>
      client.request("GET", "/v1/principal", {
        headers: { "cf-connecting-ip": address, authorization: `Bearer ${unknownKey()}` },
      }),
    );
    expect(passed.length).toBeGreaterThanOrEqual(workersSuiteRateLimit);
    expect(new Set(passed)).toEqual(new Set([401]));
    expect(refused.headers.get("retry-after")).toBe("60");
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(refused.body).toMatchObject({ code: "rate_limited", status: 429 });

    // Another address is not affected.
    const elsewhere = await client.request("GET", "/health", {
      headers: { "cf-connecting-ip": randomAddress() },
    });
    expect(elsewhere.status).toBe(200);
  });
});
