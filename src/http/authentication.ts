import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { AdminTokenSlot } from "../admin-audit/service.ts";
import { createNegativeCache, type NegativeCache } from "../api-keys/negative-cache.ts";
import { keyCallerCte } from "../api-keys/repo.ts";
import { authenticateKey, presentedKey } from "../api-keys/service.ts";
import { type Caller, knownCaller, statementCaller } from "../auth/caller.ts";
import { callerContext } from "../auth/context.ts";
import type { Config } from "../config/bindings.ts";
import { UnauthenticatedError } from "../errors/domain-error.ts";
import { secretsEqual } from "../lib/crypto.ts";
import { auditAdminRequest } from "./admin-audit.ts";
import type { AppEnv } from "./app-env.ts";
import { limitByKey } from "./rate-limit.ts";

function bearerToken(header: string | undefined): string | undefined {
  const match = header ? /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header.trim()) : null;
  return match?.[1];
}

/** Which admin secret the token is; both are always compared, each in constant time. */
async function adminTokenSlot(token: string, config: Config): Promise<AdminTokenSlot | undefined> {
  const [current, next] = await Promise.all([
    secretsEqual(token, config.adminToken),
    config.adminTokenNext ? secretsEqual(token, config.adminTokenNext) : Promise.resolve(false),
  ]);
  return current ? "current" : next ? "next" : undefined;
}

/**
 * `/v1/admin/*`: only ADMIN_TOKEN or ADMIN_TOKEN_NEXT (during a rotation); API keys are refused.
 * Every request that reaches a route leaves one audit row.
 */
export const requireAdminToken: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearerToken(c.req.header("authorization"));
  const slot = token ? await adminTokenSlot(token, c.var.deps.config) : undefined;
  if (!slot) throw new UnauthenticatedError();
  await next();
  await auditAdminRequest(c, slot);
};

/**
 * Marks a route whose verb authenticates the API key inside its own one statement (DESIGN §10,
 * auth/caller.ts), in the route's `middleware`. Every other route looks the key up first.
 */
export const authenticatesInStatement: MiddlewareHandler<AppEnv> = (_c, next) => next();

const inStatement = (c: Context<AppEnv>) =>
  matchedRoutes(c).some((route) => route.handler === authenticatesInStatement);

/**
 * Every other `/v1/*` route: an unrevoked API key, which sets the request's principal, after the
 * per-key rate limit. On a marked route with a backend that checks permissions in SQL, the verb's
 * statement looks the key up itself; elsewhere it is looked up here. One `rejected` cache per
 * app, i.e. per isolate.
 */
export function requireApiKey(rejected: NegativeCache = createNegativeCache()): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.path.startsWith("/v1/admin/")) return next();
    const deps = c.var.deps;
    const token = bearerToken(c.req.header("authorization"));
    const presented = token ? await presentedKey(token) : undefined;
    if (!presented || rejected.has(presented.tokenDigest)) throw new UnauthenticatedError();
    // Keyed by the whole token (one per key): a wrong secret for a real key id spends nothing of its limit.
    await limitByKey(deps, presented.tokenDigest);
    const refuse = () => rejected.add(presented.tokenDigest);
    let caller: Caller;
    if (inStatement(c) && deps.authorizer.statementPredicate) {
      caller = statementCaller(keyCallerCte(presented.keyId, presented.secretHashHex), refuse);
    } else {
      const principal = await authenticateKey(deps.db, presented);
      if (!principal) {
        refuse();
        throw new UnauthenticatedError();
      }
      caller = knownCaller(principal);
    }
    const ctx = callerContext({ ...deps, db: () => deps.db }, caller);
    deps.afterResponse(async () => {
      if (caller.principal) await ctx.access.flushShadow();
    });
    c.set("service", ctx);
    await next();
  };
}
