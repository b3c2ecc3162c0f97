// wrangler.toml as wrangler itself reads it: the safe defaults of docs/operations.md hold, and the
// bindings it declares are the ones the Worker parses.

import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { parseBindings } from "../../src/config/bindings.ts";

interface RateLimitConfig {
  name: string;
  namespace_id: string;
  simple: { limit: number; period: number };
}

const config = unstable_readConfig({ config: "wrangler.toml" });
const ratelimits = config.ratelimits as RateLimitConfig[];

describe("wrangler.toml", () => {
  it("publishes no workers.dev or preview hostname", () => {
    expect(config.workers_dev).toBe(false);
    expect(config.preview_urls).toBe(false);
  });

  it("keeps Workers Logs for every invocation, without query strings", () => {
    expect(config.observability).toMatchObject({
      enabled: true,
      head_sampling_rate: 1,
      redact_query_string: true,
    });
  });

  it("places the Worker by its database and gives the cron a CPU ceiling", () => {
    expect(config.placement).toMatchObject({ region: expect.stringMatching(/^(aws|gcp|azure):[a-z0-9-]+$/) });
    expect(config.limits?.cpu_ms).toBeGreaterThanOrEqual(30_000);
  });

  it("binds both rate limiters with the period the Worker answers in Retry-After", () => {
    const limiters = Object.fromEntries(ratelimits.map((binding) => [binding.name, binding]));
    expect(Object.keys(limiters).sort()).toEqual(["RATE_LIMIT_BY_ADDRESS", "RATE_LIMIT_BY_KEY"]);
    const period = Number(config.vars.RATE_LIMIT_PERIOD_SECONDS);
    for (const binding of ratelimits) expect(binding.simple.period).toBe(period);
    // Before authentication an address may carry several keys' traffic, so its limit is the larger.
    expect(limiters.RATE_LIMIT_BY_ADDRESS?.simple.limit).toBeGreaterThan(
      limiters.RATE_LIMIT_BY_KEY?.simple.limit ?? Number.POSITIVE_INFINITY,
    );
  });

  it("holds vars that parse as a production deployment", () => {
    const limiter = { limit: async () => ({ success: true }) };
    const parsed = parseBindings({
      ...config.vars,
      DATABASE_URL: "postgres://leasehold@ep-example.us-east-2.aws.neon.tech/leasehold",
      ADMIN_TOKEN: "adm_0123456789abcdef0123456789abcdef",
      RATE_LIMIT_BY_ADDRESS: limiter,
      RATE_LIMIT_BY_KEY: limiter,
    });
    expect(parsed.environment).toBe("production");
    expect(parsed.rateLimits.periodSeconds).toBe(60);
  });
});
