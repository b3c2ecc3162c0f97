// How the app asks its rate limiters (the real bindings are exercised inside workerd, in
// test/workers/rate-limit.test.ts): what it keys them by, the answer when one refuses, and that a
// failing limiter does not take the API down with it.

import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import type { RateLimitBinding } from "../../src/config/bindings.ts";
import { sha256, toHex } from "../../src/lib/crypto.ts";
import { testBindings } from "../support/bindings.ts";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { useTestApp } from "../support/test-app.ts";
import { createTestClient } from "../support/test-client.ts";

function recordingLimiter(refuse: (key: string) => boolean = () => false) {
  const keys: string[] = [];
  const limiter: RateLimitBinding = {
    limit: async ({ key }) => {
      keys.push(key);
      return { success: !refuse(key) };
    },
  };
  return { keys, limiter };
}

describe("rate limiting", () => {
  const testApp = useTestApp();

  it("keys the address limit by cf-connecting-ip and the key limit by the token's digest, never by the token", async () => {
    const principal = await createAccountWithPrincipal(testApp.client);
    const byAddress = recordingLimiter();
    const byKey = recordingLimiter();
    const client = createTestClient(
      createApp(),
      testBindings(testApp.database, {
        RATE_LIMIT_BY_ADDRESS: byAddress.limiter,
        RATE_LIMIT_BY_KEY: byKey.limiter,
      }),
    );
    const me = await client.request("GET", "/v1/principal", {
      token: principal.token,
      headers: { "cf-connecting-ip": "2001:db8::7" },
    });
    expect(me.status).toBe(200);
    expect(byAddress.keys).toEqual(["address:2001:db8::7"]);
    expect(byKey.keys).toEqual([`key:${toHex(await sha256(principal.token))}`]);

    // No address (a local run): not limited by address. A malformed token is never charged to a key.
    const malformed = await client.request("GET", "/v1/principal", { token: `${principal.token}0` });
    expect(malformed.status).toBe(401);
    expect(byAddress.keys).toHaveLength(1);
    expect(byKey.keys).toHaveLength(1);
    // A wrong secret for the real key id (checked before any lookup, on a route that authenticates
    // in its statement or not) spends a bucket of its own, never the real key's.
    const forged = ["0", "1"].map((digit) => `lh_${principal.keyId}_${digit.repeat(64)}`);
    const paths = ["/v1/principal", "/v1/tasks/tsk_00000000000000000000000000"];
    for (const [i, path] of paths.entries()) {
      expect((await client.request("GET", path, { token: forged[i] })).status).toBe(401);
    }
    const digests = await Promise.all(forged.map(async (token) => `key:${toHex(await sha256(token))}`));
    expect(byKey.keys.slice(1)).toEqual(digests);
    for (const key of [...byAddress.keys, ...byKey.keys]) {
      expect(key).not.toContain(principal.token.slice(-64));
      expect(key).not.toContain(principal.keyId);
    }
  });

  it("answers a refused request 429 rate_limited with Retry-After equal to the configured period", async () => {
    const principal = await createAccountWithPrincipal(testApp.client);
    const client = createTestClient(
      createApp(),
      testBindings(testApp.database, {
        RATE_LIMIT_BY_KEY: recordingLimiter(() => true).limiter,
        RATE_LIMIT_PERIOD_SECONDS: "10",
      }),
    );
    const refused = await client.request("GET", "/v1/principal", { token: principal.token });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("10");
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(refused.body).toMatchObject({ code: "rate_limited", status: 429, title: "Rate limited" });
    expect(refused.text).not.toContain(principal.keyId);
  });

  it("lets requests through when a limiter fails, and says so in the log", async () => {
    const principal = await createAccountWithPrincipal(testApp.client);
    const lines: string[] = [];
    const broken: RateLimitBinding = { limit: () => Promise.reject(new Error("limiter unreachable")) };
    const client = createTestClient(
      createApp({ logSink: (line) => lines.push(line) }),
      testBindings(testApp.database, { RATE_LIMIT_BY_ADDRESS: broken, RATE_LIMIT_BY_KEY: broken }),
    );
    const me = await client.request("GET", "/v1/principal", {
      token: principal.token,
      headers: { "cf-connecting-ip": "203.0.113.9" },
    });
    expect(me.status).toBe(200);
    const warnings = lines
      .map((line) => JSON.parse(line))
      .filter((e) => e.event === "rate_limit.unavailable");
    expect(warnings.map((w) => [w.level, w.limiter])).toEqual([
      ["warn", "address"],
      ["warn", "key"],
    ]);
  });
});
