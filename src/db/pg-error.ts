import { DrizzleQueryError } from "drizzle-orm/errors";

/**
 * A thrown value and what it wraps, outermost first: drizzle's `cause`, the Neon HTTP path's
 * `sourceError`, a WebSocket ErrorEvent's `error`. ErrorEvents are not Errors, so any object counts.
 */
export function errorChain(error: unknown, maxDepth = 6): object[] {
  const chain: object[] = [];
  for (let e: unknown = error; typeof e === "object" && e !== null && chain.length < maxDepth; ) {
    if (chain.includes(e)) break;
    chain.push(e);
    const {
      cause,
      sourceError,
      error: inner,
    } = e as { cause?: unknown; sourceError?: unknown; error?: unknown };
    e = cause ?? sourceError ?? inner;
  }
  return chain;
}

/** The SQLSTATE of a PostgreSQL error, looking through drizzle's wrapping. */
export function sqlState(error: unknown): string | undefined {
  for (const e of errorChain(error)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && isServerError(e)) return code;
  }
  return undefined;
}

/**
 * An error whose message may carry SQL text or values: drizzle's wrapper ("Failed query: <sql>
 * params: <values>") and the server's own errors (pg's DatabaseError, NeonDbError), whose
 * messages and `detail` quote rows ("Key (name)=(…) already exists").
 */
export function isDatabaseError(error: unknown): boolean {
  if (error instanceof DrizzleQueryError) return true;
  return typeof error === "object" && error !== null && isServerError(error);
}

function isServerError(error: object): boolean {
  const name = (error as { name?: unknown }).name;
  const ctor = error.constructor?.name;
  // pg's DatabaseError is named "error"; both it and NeonDbError copy the server's `severity`.
  return ctor === "DatabaseError" || ctor === "NeonDbError" || name === "NeonDbError" || "severity" in error;
}

export const foreignKeyViolation = "23503";
export const uniqueViolation = "23505";
