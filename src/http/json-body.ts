import type { MiddlewareHandler } from "hono";
import { DomainError, MalformedRequestError } from "../errors/domain-error.ts";

const jsonMediaType = /^application\/([\w.-]+\+)?json$/i;

/**
 * Any request that carries a body must carry JSON: wrong content type or unparsable JSON is 400
 * before a route sees it. The parsed body is cached on the request for the route's validator.
 */
export const requireJsonBodies: MiddlewareHandler = async (c, next) => {
  const length = c.req.header("content-length");
  const hasBody = (length !== undefined && length !== "0") || c.req.header("transfer-encoding") !== undefined;
  if (c.req.method === "GET" || c.req.method === "HEAD" || !hasBody) return next();
  const mediaType = (c.req.header("content-type") ?? "").split(";")[0]?.trim() ?? "";
  if (!jsonMediaType.test(mediaType))
    throw new MalformedRequestError("Content-Type must be application/json.");
  try {
    await c.req.json();
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw new MalformedRequestError("The request body is not valid JSON.");
  }
  await next();
};
