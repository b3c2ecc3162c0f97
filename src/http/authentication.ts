import type { MiddlewareHandler } from "hono";
import type { AdminTokenSlot } from "../admin-audit/service.ts";
import { createNegativeCache, type NegativeCache } from "../api-keys/negative-cache.ts";
import { authenticateToken } from "../api-keys/service.ts";
import { Access } from "../authz/access.ts";
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
 * Every other `/v1/*` route: an unrevoked API key, which sets the request's principal, then the
 * per-key rate limit. One `rejected` cache per app, i.e. per isolate.
 */
export function requireApiKey(rejected: NegativeCache = createNegativeCache()): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.path.startsWith("/v1/admin/")) return next();
    const deps = c.var.deps;
    const token = bearerToken(c.req.header("authorization"));
    const principal = token ? await authenticateToken(deps.db, token, rejected) : undefined;
    if (!principal) throw new UnauthenticatedError();
    await limitByKey(deps, principal.keyId);
    c.set("principal", principal);
    const access = new Access(principal, {
      config: deps.config,
      authorizer: deps.authorizer,
      metrics: deps.metrics,
      logger: deps.logger,
      db: () => deps.db,
    });
    deps.afterResponse(() => access.flushShadow());
    c.set("service", {
      get db() {
        return deps.db;
      },
      principal,
      now: deps.now,
      config: deps.config,
      access,
      authorizer: deps.authorizer,
    });
    await next();
  };
}
