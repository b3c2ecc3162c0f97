// A well-formed but unknown or revoked API key is answered 401 without a database round trip after
// the first time (DESIGN §14), from a per-isolate cache keyed by a digest of the whole token.
import { describe, expect, it } from "vitest";
import { createNegativeCache } from "../../src/api-keys/negative-cache.ts";
import { createApp } from "../../src/app.ts";
import { openDatabase } from "../../src/db/client.ts";
import { randomHex } from "../../src/lib/crypto.ts";
import { newId } from "../../src/lib/ids.ts";
import { countingDatabase } from "../support/counting-database.ts";
import { adminToken, createAccountWithPrincipal } from "../support/factories.ts";
import { useTestApp } from "../support/test-app.ts";
import { createTestClient } from "../support/test-client.ts";

describe("the negative cache itself", () => {
  it("forgets an entry when its time is up", () => {
    let now = 1_000;
    const cache = createNegativeCache({ ttlMs: 60_000, clock: () => now });
    cache.add("a");
    now += 59_999;
    expect(cache.has("a")).toBe(true);
    now += 1;
    expect(cache.has("a")).toBe(false);
    expect(cache.size).toBe(0);
  });

  it("holds at most maxEntries, dropping the oldest first", () => {
    const cache = createNegativeCache({ maxEntries: 3 });
    for (const digest of ["a", "b", "c", "d"]) cache.add(digest);
    expect(cache.size).toBe(3);
    expect(["a", "b", "c", "d"].map((digest) => cache.has(digest))).toEqual([false, true, true, true]);
    cache.add("b"); // refreshed: now the newest
    cache.add("e");
    expect(["b", "c", "d", "e"].map((digest) => cache.has(digest))).toEqual([true, false, true, true]);
  });

  it("drops expired entries before evicting live ones", () => {
    let now = 0;
    const cache = createNegativeCache({ ttlMs: 10, maxEntries: 1000, clock: () => now });
    for (let i = 0; i < 500; i++) cache.add(`old-${i}`);
    now = 10;
    cache.add("fresh");
    expect(cache.size).toBe(1);
  });
});

describe("authentication with the negative cache", () => {
  const testApp = useTestApp();
  const counted = () => {
    const counting = countingDatabase();
    return {
      counting,
      client: createTestClient(createApp({ openDatabase: counting.openDatabase }), testApp.client.env),
    };
  };
  const whoAmI = (client: ReturnType<typeof counted>["client"], token: string) =>
    client.request("GET", "/v1/principal", { token });
  const unknownToken = () => `lh_${newId("key")}_${randomHex(32)}`;

  it("looks an unknown key up once, then answers 401 with no statement at all", async () => {
    const { counting, client } = counted();
    const token = unknownToken();
    expect((await whoAmI(client, token)).status).toBe(401);
    expect(counting.statements.length).toBeGreaterThan(0);

    counting.statements.length = 0;
    const again = await whoAmI(client, token);
    expect(again.status).toBe(401);
    expect(again.body).toMatchObject({ code: "unauthenticated" });
    expect(counting.statements).toEqual([]);

    // Another unknown key is its own entry: it costs its own first lookup.
    expect((await whoAmI(client, unknownToken())).status).toBe(401);
    expect(counting.statements.length).toBeGreaterThan(0);
  });

  it("never lets a wrong secret for a real key id lock out the right token", async () => {
    const { counting, client } = counted();
    const principal = await createAccountWithPrincipal(testApp.client);
    const forged = principal.token.replace(/[0-9a-f]{64}$/, "0".repeat(64));
    expect((await whoAmI(client, forged)).status).toBe(401);
    expect((await whoAmI(client, forged)).status).toBe(401);

    counting.statements.length = 0;
    expect((await whoAmI(client, principal.token)).status).toBe(200);
    expect(counting.statements).toHaveLength(1);

    counting.statements.length = 0;
    expect((await whoAmI(client, forged)).status).toBe(401);
    expect(counting.statements).toEqual([]);
  });

  it("keeps revocation immediate: a valid key is looked up every time, then cached once refused", async () => {
    const { counting, client } = counted();
    const principal = await createAccountWithPrincipal(testApp.client);
    for (let i = 0; i < 2; i++) {
      counting.statements.length = 0;
      expect((await whoAmI(client, principal.token)).status).toBe(200);
      expect(counting.statements).toHaveLength(1);
    }
    const revoked = await testApp.client.request("DELETE", `/v1/admin/api-keys/${principal.keyId}`, {
      token: adminToken(testApp.client),
    });
    expect(revoked.status).toBe(204);

    counting.statements.length = 0;
    expect((await whoAmI(client, principal.token)).status).toBe(401);
    expect(counting.statements).toHaveLength(1);
    counting.statements.length = 0;
    expect((await whoAmI(client, principal.token)).status).toBe(401);
    expect(counting.statements).toEqual([]);
  });

  it("does not remember a lookup that failed for another reason than the key", async () => {
    const token = unknownToken();
    let failing = true;
    const statements: string[] = [];
    const app = createApp({
      logSink: () => {},
      openDatabase: (settings, onError) =>
        openDatabase(settings, onError, {
          statement: ({ text }) => {
            if (failing) throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
            statements.push(text);
            return undefined;
          },
        }),
    });
    const client = createTestClient(app, testApp.client.env);
    const outage = await whoAmI(client, token);
    expect(outage.status).toBeGreaterThanOrEqual(500);
    failing = false;
    expect((await whoAmI(client, token)).status).toBe(401);
    expect(statements.length).toBeGreaterThan(0);
  });
});
