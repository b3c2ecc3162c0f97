import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { configFor, parseBindings, rolloutFlags } from "../../src/config/bindings.ts";
import { MisconfiguredError } from "../../src/errors/domain-error.ts";
import { createTestClient } from "../support/test-client.ts";

const valid = {
  DATABASE_URL: "postgres://user:secret-password@db.example.com/leasehold",
  ADMIN_TOKEN: "adm_0123456789abcdef0123456789abcdef",
};

function misconfiguredBindings(env: Record<string, unknown>): string[] {
  try {
    parseBindings(env);
  } catch (error) {
    if (error instanceof MisconfiguredError) return error.bindings;
    throw error;
  }
  throw new Error("expected the bindings to be rejected");
}

describe("bindings", () => {
  it("applies the documented defaults", () => {
    const config = parseBindings(valid);
    expect(config).toMatchObject({
      authzBackend: "postgres",
      rollout: { agents: "enforce", tasks: "enforce", schedules: "enforce", apiKeys: "enforce" },
      lease: { defaultSeconds: 30, maxSeconds: 3600 },
      defaultMaxAttempts: 5,
      retentionDays: 30,
      environment: "production",
      databaseWsProxy: undefined,
      spicedb: undefined,
    });
  });

  it("accepts numbers as wrangler passes them, as numbers or strings", () => {
    expect(parseBindings({ ...valid, MAX_LEASE_SECONDS: 600, DEFAULT_LEASE_SECONDS: "60" }).lease).toEqual({
      defaultSeconds: 60,
      maxSeconds: 600,
    });
  });

  it.each(["FGAC_AGENTS", "FGAC_TASKS", "FGAC_SCHEDULES", "FGAC_API_KEYS"])(
    "accepts every rollout value for %s",
    (name) => {
      for (const flag of rolloutFlags) expect(() => parseBindings({ ...valid, [name]: flag })).not.toThrow();
      expect(misconfiguredBindings({ ...valid, [name]: "enforced" })).toEqual([name]);
    },
  );

  it.each([
    [{ DATABASE_URL: undefined }, "DATABASE_URL"],
    [{ DATABASE_URL: "mysql://nope" }, "DATABASE_URL"],
    [{ ADMIN_TOKEN: "short" }, "ADMIN_TOKEN"],
    [{ AUTHZ_BACKEND: "zanzibar" }, "AUTHZ_BACKEND"],
    [{ DEFAULT_LEASE_SECONDS: "0" }, "DEFAULT_LEASE_SECONDS"],
    [{ DEFAULT_LEASE_SECONDS: "30s" }, "DEFAULT_LEASE_SECONDS"],
    [{ DEFAULT_LEASE_SECONDS: "7200" }, "DEFAULT_LEASE_SECONDS"],
    [{ DEFAULT_MAX_ATTEMPTS: "101" }, "DEFAULT_MAX_ATTEMPTS"],
    [{ RETENTION_DAYS: "-1" }, "RETENTION_DAYS"],
    [{ ENVIRONMENT: "prod" }, "ENVIRONMENT"],
    [{ DATABASE_WS_PROXY: "http://localhost:1/" }, "DATABASE_WS_PROXY"],
    [{ AUTHZ_BACKEND: "spicedb" }, "SPICEDB_URL"],
  ])("rejects %o naming %s", (override, name) => {
    expect(misconfiguredBindings({ ...valid, ...override })).toContain(name);
  });

  it("accepts an optional ADMIN_TOKEN_NEXT as long as ADMIN_TOKEN", () => {
    expect(parseBindings(valid).adminTokenNext).toBeUndefined();
    const next = "nxt_0123456789abcdef0123456789abcdef";
    expect(parseBindings({ ...valid, ADMIN_TOKEN_NEXT: next }).adminTokenNext).toBe(next);
    expect(misconfiguredBindings({ ...valid, ADMIN_TOKEN_NEXT: "too-short" })).toEqual(["ADMIN_TOKEN_NEXT"]);
    expect(misconfiguredBindings({ ...valid, ADMIN_TOKEN_NEXT: "" })).toEqual(["ADMIN_TOKEN_NEXT"]);
  });

  describe("SPICEDB_URL", () => {
    const spicedb = (url: string, environment?: string) => ({
      ...valid,
      AUTHZ_BACKEND: "spicedb",
      SPICEDB_URL: url,
      SPICEDB_TOKEN: "token",
      ...(environment ? { ENVIRONMENT: environment } : {}),
    });

    it.each([undefined, "production", "staging"])("must be https in %s", (environment) => {
      expect(misconfiguredBindings(spicedb("http://spicedb.internal:8443", environment))).toEqual([
        "SPICEDB_URL",
      ]);
      expect(misconfiguredBindings(spicedb("HTTP://spicedb.internal:8443", environment))).toEqual([
        "SPICEDB_URL",
      ]);
      expect(parseBindings(spicedb("https://spicedb.example.com", environment)).spicedb).toEqual({
        url: "https://spicedb.example.com",
        token: "token",
      });
    });

    it.each(["development", "test"])("may be plain http in %s (a local SpiceDB)", (environment) => {
      expect(parseBindings(spicedb("http://127.0.0.1:8443", environment)).spicedb?.url).toBe(
        "http://127.0.0.1:8443",
      );
    });

    it("is checked even while the postgres backend is chosen", () => {
      expect(misconfiguredBindings({ ...valid, SPICEDB_URL: "http://spicedb.internal" })).toEqual([
        "SPICEDB_URL",
      ]);
    });

    it("refuses other schemes anywhere", () => {
      expect(misconfiguredBindings(spicedb("ftp://spicedb.internal", "development"))).toEqual([
        "SPICEDB_URL",
      ]);
    });
  });

  it("takes the rate limiters as optional bindings, with one period", () => {
    const limiter = { limit: async () => ({ success: true }) };
    expect(parseBindings(valid).rateLimits).toEqual({
      byKey: undefined,
      byAddress: undefined,
      periodSeconds: 60,
    });
    const bound = parseBindings({
      ...valid,
      RATE_LIMIT_BY_KEY: limiter,
      RATE_LIMIT_BY_ADDRESS: limiter,
      RATE_LIMIT_PERIOD_SECONDS: "10",
    });
    expect(bound.rateLimits).toEqual({ byKey: limiter, byAddress: limiter, periodSeconds: 10 });
    expect(misconfiguredBindings({ ...valid, RATE_LIMIT_PERIOD_SECONDS: "30" })).toEqual([
      "RATE_LIMIT_PERIOD_SECONDS",
    ]);
    expect(misconfiguredBindings({ ...valid, RATE_LIMIT_BY_KEY: "1200/min" })).toEqual(["RATE_LIMIT_BY_KEY"]);
  });

  it("parses once per env object", () => {
    const env = { ...valid };
    expect(configFor(env)).toBe(configFor(env));
  });

  it("answers every request 500 misconfigured, naming the binding only in the log", async () => {
    const lines: string[] = [];
    const app = createApp({ logSink: (line) => lines.push(line) });
    const client = createTestClient(app, { ...valid, FGAC_TASKS: "yes-please" });
    for (const path of ["/health", "/v1/principal", "/v1/admin/accounts"]) {
      const response = await client.request("GET", path);
      expect(response.status).toBe(500);
      expect(response.body).toMatchObject({ code: "misconfigured", status: 500 });
      expect(response.text).not.toContain("FGAC");
      expect(response.text).not.toContain("secret-password");
    }
    const logged = lines.map((line) => JSON.parse(line)).filter((entry) => entry.event === "config.invalid");
    expect(logged.length).toBeGreaterThan(0);
    expect(logged[0].bindings).toEqual(["FGAC_TASKS"]);
    expect(lines.join("\n")).not.toContain("secret-password");
  });
});
