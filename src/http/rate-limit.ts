import type { MiddlewareHandler } from "hono";
import type { RateLimitBinding } from "../config/bindings.ts";
import { RateLimitedError } from "../errors/domain-error.ts";
import { describeError } from "../observability/logger.ts";
import type { AppEnv, RequestDeps } from "./app-env.ts";

// Limits come from the Workers Rate Limiting bindings (`[[ratelimits]]` in wrangler.toml): one per
// client address, checked before authentication, and one per API key, checked before the key is
// looked up. An unbound limiter imposes no limit. A limiter that fails lets the request through: losing the
// limit for a moment is better than answering every request with an error.

async function enforce(
  deps: RequestDeps,
  limiter: RateLimitBinding | undefined,
  key: string,
  kind: "address" | "key",
): Promise<void> {
  if (!limiter) return;
  let outcome: { success: boolean };
  try {
    outcome = await limiter.limit({ key });
  } catch (error) {
    deps.logger.log("warn", "rate_limit.unavailable", { limiter: kind, ...describeError(error) });
    deps.metrics.count("rate_limit.unavailable", { limiter: kind });
    return;
  }
  if (outcome.success) return;
  deps.metrics.count("rate_limit.rejected", { limiter: kind });
  const period = deps.config.rateLimits.periodSeconds;
  const from = kind === "key" ? "this API key" : "this client address";
  throw new RateLimitedError(`Too many requests from ${from}; retry in ${period} s.`, period);
}

/**
 * Every request, keyed by the address Cloudflare saw (`cf-connecting-ip`, set by the edge and not
 * forgeable through it). Requests without one (local runs) are not limited by address.
 */
export const limitByAddress: MiddlewareHandler<AppEnv> = async (c, next) => {
  const address = c.req.header("cf-connecting-ip");
  if (address) {
    const deps = c.var.deps;
    await enforce(deps, deps.config.rateLimits.byAddress, `address:${address}`, "address");
  }
  await next();
};

/**
 * A request with a well-formed API key, before the key is looked up, keyed by the token's digest
 * (one token per key, so it is the key's limit; a wrong secret for a key id spends its own).
 */
export function limitByKey(deps: RequestDeps, tokenDigest: string): Promise<void> {
  return enforce(deps, deps.config.rateLimits.byKey, `key:${tokenDigest}`, "key");
}
