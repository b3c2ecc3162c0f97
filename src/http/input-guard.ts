// The one input boundary (ADR 0014): text PostgreSQL cannot store, and JSON that JSON.parse
// already altered, is refused before any handler runs — never stored changed, never a 500.
import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { type FieldError, MalformedRequestError, ValidationError } from "../errors/domain-error.ts";
import type { AppEnv } from "./app-env.ts";

/** Nested arrays/objects allowed in a body, counting the body itself. */
export const maxJsonDepth = 128;
/** A body with many bad values is answered with the first few. */
const maxReported = 20;

/** Why PostgreSQL could not store `text` as sent, or undefined when it can. */
export function unstorableText(text: string): string | undefined {
  if (text.includes("\u0000")) return "Contains a NUL character (U+0000), which cannot be stored.";
  if (!text.isWellFormed()) return "Contains an unpaired UTF-16 surrogate, which is not Unicode text.";
  return undefined;
}

const escapePointer = (segment: string) => segment.replaceAll("~", "~0").replaceAll("/", "~1");

/**
 * Field errors for a parsed JSON body: bad text in any string or member name, numbers JSON.parse
 * turned into ±Infinity (JSON.stringify would store them as null), and nesting beyond
 * `maxJsonDepth` (PostgreSQL's jsonb parser and JSON.stringify both recurse).
 */
export function jsonBodyErrors(body: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const report = (pointer: string, message: string) => {
    if (errors.length < maxReported) errors.push({ location: "body", pointer, message });
  };
  const walk = (value: unknown, pointer: string, depth: number): void => {
    if (errors.length >= maxReported) return;
    if (typeof value === "string") {
      const problem = unstorableText(value);
      if (problem) report(pointer, problem);
    } else if (typeof value === "number") {
      if (!Number.isFinite(value)) report(pointer, "A number too large to represent exactly (±Infinity).");
    } else if (value !== null && typeof value === "object") {
      if (depth >= maxJsonDepth) {
        report(pointer, `Nested deeper than ${maxJsonDepth} arrays or objects.`);
      } else if (Array.isArray(value)) {
        value.forEach((item, index) => walk(item, `${pointer}/${index}`, depth + 1));
      } else {
        for (const [key, item] of Object.entries(value)) {
          const member = `${pointer}/${escapePointer(key)}`;
          const problem = unstorableText(key);
          if (problem) report(member, `Member name: ${problem}`);
          walk(item, member, depth + 1);
        }
      }
    }
  };
  walk(body, "", 0);
  return errors;
}

/** Throws 422 `validation_failed` for a body that could not be stored exactly as sent. */
export function assertStorableJson(body: unknown): void {
  const errors = jsonBodyErrors(body);
  if (errors.length > 0)
    throw new ValidationError(errors, "The request body holds values that cannot be stored as sent.");
}

function decode(raw: string, plusIsSpace: boolean): { text?: string; problem?: string } {
  try {
    const text = decodeURIComponent(plusIsSpace ? raw.replaceAll("+", " ") : raw);
    const problem = unstorableText(text);
    return problem ? { text, problem } : { text };
  } catch {
    return { problem: "Percent-encoding that does not decode to UTF-8 text." };
  }
}

/** The path parameter names of the route this request matched, by segment index; undefined: no route. */
function routeSegments(c: Parameters<MiddlewareHandler<AppEnv>>[0]): string[] | undefined {
  const route = matchedRoutes(c).findLast((candidate) => candidate.method !== "ALL");
  return route?.path.split("/");
}

function pathAndQueryErrors(url: URL, route: string[]): FieldError[] {
  const errors: FieldError[] = [];
  url.pathname.split("/").forEach((segment, index) => {
    const { problem } = decode(segment, false);
    const name = route[index]?.startsWith(":") ? route[index].slice(1) : String(index);
    if (problem) errors.push({ location: "path", pointer: `/${escapePointer(name)}`, message: problem });
  });
  for (const pair of url.search.slice(1).split("&").filter(Boolean)) {
    const [rawName = "", ...rest] = pair.split("=");
    const name = decode(rawName, true);
    const problem = name.problem ?? (rest.length > 0 ? decode(rest.join("="), true).problem : undefined);
    if (problem)
      errors.push({
        location: "query",
        pointer: `/${escapePointer(name.text ?? rawName)}`,
        message: problem,
      });
  }
  return errors.slice(0, maxReported);
}

/**
 * Path segments and query values must decode to storable text: otherwise 400
 * `malformed_request` naming the parameter. A path no route matches is left to the 404.
 */
export const guardInput: MiddlewareHandler<AppEnv> = async (c, next) => {
  const route = routeSegments(c);
  const errors = route ? pathAndQueryErrors(new URL(c.req.url), route) : [];
  if (errors.length > 0) {
    const detail = "The request URL holds values that cannot be stored as text.";
    throw new MalformedRequestError(detail, errors);
  }
  await next();
};
