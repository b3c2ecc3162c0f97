import type { Context } from "hono";
import { matchedRoutes } from "hono/route";
import { type AdminTokenSlot, asResourceId, recordAdminAction } from "../admin-audit/service.ts";
import { describeError } from "../observability/logger.ts";
import type { AppEnv } from "./app-env.ts";

// Derived from the route and the response alone, so a route added later is audited without
// anyone remembering to. Only ids of our own shape, status, problem code and numbers are kept:
// nothing a caller typed as free text, and never the response's `key` (a plaintext token).

interface ResponseFacts {
  id?: string | undefined;
  accountId?: string | undefined;
  code?: string | undefined;
  numbers?: Record<string, number>;
}

async function readResponseFacts(response: Response): Promise<ResponseFacts> {
  const type = response.headers.get("content-type") ?? "";
  if (!/^application\/(problem\+)?json\b/.test(type)) return {};
  let body: unknown;
  try {
    body = await response.clone().json();
  } catch {
    return {};
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return {};
  const record = body as Record<string, unknown>;
  if (type.startsWith("application/problem+json")) {
    return { code: typeof record.code === "string" ? record.code : undefined };
  }
  const numbers = Object.fromEntries(
    Object.entries(record).filter((entry): entry is [string, number] => typeof entry[1] === "number"),
  );
  return {
    id: asResourceId(record.id),
    accountId: asResourceId(record.account_id),
    ...(Object.keys(numbers).length > 0 ? { numbers } : {}),
  };
}

/**
 * Writes the audit row for an admin request that reached a route (its validators or its handler),
 * whatever it answered. A request that matched no route (404) is not an action. A failed write is
 * logged at error level and the response stands: the action itself has already happened.
 */
export async function auditAdminRequest(c: Context<AppEnv>, tokenSlot: AdminTokenSlot): Promise<void> {
  const routes = matchedRoutes(c);
  const first = routes.findIndex((route) => route.method !== "ALL");
  if (first < 0 || c.req.routeIndex < first) return;
  const route = routes[first];
  const deps = c.var.deps;
  try {
    const facts = await readResponseFacts(c.res);
    const params = c.req.param() as Record<string, string>;
    await recordAdminAction(deps.db, {
      action: `${route?.method} ${route?.path}`,
      tokenSlot,
      requestId: c.var.requestId,
      targetId: asResourceId(params.id) ?? facts.id,
      accountId: asResourceId(params.account_id) ?? facts.accountId,
      detail: {
        status: c.res.status,
        ...(facts.code ? { code: facts.code } : {}),
        ...(facts.numbers ? { result: facts.numbers } : {}),
      },
    });
  } catch (error) {
    deps.logger.log("error", "admin.audit_failed", {
      action: `${route?.method} ${route?.path}`,
      status: c.res.status,
      ...describeError(error),
    });
  }
}
