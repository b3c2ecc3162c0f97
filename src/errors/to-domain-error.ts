import { DomainError, ServiceUnavailableError } from "./domain-error.ts";

// SQLSTATE classes that mean "the database cannot serve right now": connection exceptions (08),
// insufficient resources (53), operator intervention (57: shutdown, cancel), and a lost lock race
// (40001 serialization failure, 40P01 deadlock) that a retry resolves.
const retryableSqlState = /^(08|53|57P0|40001|40P01)/;

// Errors raised below the SQL layer (WebSocket, TCP, TLS) carry no SQLSTATE.
const connectionFailure =
  /connection (terminated|refused|reset|timeout|closed|lost)|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|socket hang up|websocket|network error|non-101 status|network connection lost|timeout exceeded when trying to connect/i;

export function isDatabaseUnavailable(error: unknown): boolean {
  // drizzle wraps driver errors in `cause`; the Neon driver reports a failed WebSocket as a bare
  // ErrorEvent (not an Error), so walk any object.
  for (let e: unknown = error, depth = 0; typeof e === "object" && e !== null && depth < 5; depth++) {
    const { code, message, type } = e as { code?: unknown; message?: unknown; type?: unknown };
    if (typeof code === "string" && retryableSqlState.test(code)) return true;
    if (typeof message === "string" && connectionFailure.test(message)) return true;
    if (type === "error" && !(e instanceof Error)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** The DomainError a thrown value should be answered with, or undefined for an internal error. */
export function toDomainError(error: unknown): DomainError | undefined {
  if (error instanceof DomainError) return error;
  if (isDatabaseUnavailable(error)) return new ServiceUnavailableError("db_unavailable", error);
  return undefined;
}
