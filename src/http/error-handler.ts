import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { authenticated } from "../auth/caller.ts";
import { errorCatalog } from "../errors/catalog.ts";
import {
  type DomainError,
  MalformedRequestError,
  MisconfiguredError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthenticatedError,
} from "../errors/domain-error.ts";
import { domainErrorResponse, problemBody, problemResponse } from "../errors/problem.ts";
import { toDomainError } from "../errors/to-domain-error.ts";
import { createLogger, describeError, type Logger, type LogSink } from "../observability/logger.ts";
import type { AppEnv } from "./app-env.ts";

// Hono's own exceptions, answered with our codes and our wording (never Hono's message).
function fromHttpException(error: HTTPException): DomainError | undefined {
  switch (error.status) {
    case 400:
      return new MalformedRequestError("The request body is not valid JSON.");
    case 401:
      return new UnauthenticatedError();
    case 404:
      return new NotFoundError();
    case 413:
      return new PayloadTooLargeError();
    case 415:
      return new MalformedRequestError("Content-Type must be application/json.");
    default:
      return undefined;
  }
}

/**
 * On a route whose statement authenticates the caller (auth/caller.ts), a refusal raised before
 * that statement ran (input that fails validation) goes only to a caller whose key holds: the
 * key is checked first, so a bad key is a 401 whatever else is wrong, as on every other route.
 */
async function unlessUnauthenticated(c: Context<AppEnv>, domain: DomainError): Promise<DomainError> {
  const service = c.var.service;
  if (!service || service.caller.principal || domain.code === "unauthenticated") return domain;
  if (errorCatalog[domain.code].status >= 500) return domain;
  try {
    await authenticated(service);
    return domain;
  } catch (error) {
    return toDomainError(error) ?? domain;
  }
}

export function createErrorHandler(logSink: LogSink | undefined) {
  const fallbackLogger = createLogger(logSink);
  return async (error: Error, c: Context<AppEnv>): Promise<Response> => {
    const requestId = c.var.requestId ?? "unknown";
    const logger: Logger = c.var.deps?.logger ?? fallbackLogger.child({ request_id: requestId });
    const raised = error instanceof HTTPException ? fromHttpException(error) : toDomainError(error);
    const domain = raised && (await unlessUnauthenticated(c, raised));
    if (!domain) {
      logger.log("error", "request.failed", {
        method: c.req.method,
        path: c.req.path,
        ...describeError(error),
      });
      return problemResponse(problemBody("internal", requestId));
    }
    if (domain instanceof MisconfiguredError) {
      logger.log("error", "config.invalid", { bindings: domain.bindings });
    } else if (domain.code === "db_unavailable" || domain.code === "authz_unavailable") {
      logger.log("warn", "dependency.unavailable", { code: domain.code, ...describeError(domain.cause) });
    }
    const response = domainErrorResponse(domain, requestId);
    if (domain.code === "unauthenticated")
      response.headers.set("www-authenticate", 'Bearer realm="leasehold"');
    return response;
  };
}

export function notFoundHandler(c: Context<AppEnv>): Response {
  return domainErrorResponse(new NotFoundError(), c.var.requestId ?? "unknown");
}
