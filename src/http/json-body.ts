import type { MiddlewareHandler } from "hono";
import { DomainError, MalformedRequestError } from "../errors/domain-error.ts";
import { assertStorableJson } from "./input-guard.ts";

const jsonMediaType = /^application\/([\w.-]+\+)?json$/i;
// Body.json() would replace invalid UTF-8 with U+FFFD: silently altered text. This refuses it.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * Any request that carries a body must carry JSON: wrong content type, bytes that are not UTF-8,
 * or unparsable JSON is 400 before a route sees it, and JSON holding values that could not be
 * stored as sent is 422 (see input-guard.ts). The bytes stay cached on the request for the
 * route's validator.
 */
export const requireJsonBodies: MiddlewareHandler = async (c, next) => {
  if (c.req.method === "GET" || c.req.method === "HEAD") return next();
  const length = c.req.header("content-length");
  const declared =
    (length !== undefined && length !== "0") || c.req.header("transfer-encoding") !== undefined;
  // A Request built in-process may stream a body without declaring its length.
  if (!declared && c.req.raw.body === null) return next();
  const bytes = await c.req.arrayBuffer().catch((error: unknown) => {
    throw error instanceof DomainError
      ? error
      : new MalformedRequestError("The request body could not be read.");
  });
  if (bytes.byteLength === 0) return next();
  const mediaType = (c.req.header("content-type") ?? "").split(";")[0]?.trim() ?? "";
  if (!jsonMediaType.test(mediaType))
    throw new MalformedRequestError("Content-Type must be application/json.");
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    throw new MalformedRequestError("The request body is not valid UTF-8.");
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new MalformedRequestError("The request body is not valid JSON.");
  }
  assertStorableJson(body);
  await next();
};
