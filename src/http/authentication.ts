import type { MiddlewareHandler } from "hono";
import { authenticateToken } from "../api-keys/service.ts";
import { Access } from "../authz/access.ts";
import { UnauthenticatedError } from "../errors/domain-error.ts";
import { secretsEqual } from "../lib/crypto.ts";
import type { AppEnv } from "./app-env.ts";

function bearerToken(header: string | undefined): string | undefined {
  const match = header ? /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header.trim()) : null;
  return match?.[1];
}

/** `/v1/admin/*`: only the operator's ADMIN_TOKEN; API keys are refused. */
export const requireAdminToken: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearerToken(c.req.header("authorization"));
  if (!token || !(await secretsEqual(token, c.var.deps.config.adminToken))) throw new UnauthenticatedError();
  await next();
};

/** Every other `/v1/*` route: an unrevoked API key, which sets the request's principal. */
export const requireApiKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.path.startsWith("/v1/admin/")) return next();
  const token = bearerToken(c.req.header("authorization"));
  const principal = token ? await authenticateToken(c.var.deps.db, token) : undefined;
  if (!principal) throw new UnauthenticatedError();
  c.set("principal", principal);
  const deps = c.var.deps;
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
