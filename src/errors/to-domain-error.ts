import { DrizzleQueryError } from "drizzle-orm/errors";
import { errorChain, sqlState } from "../db/pg-error.ts";
import { DomainError, ServiceUnavailableError } from "./domain-error.ts";

// What is answered 503 db_unavailable (ADR 0015): the statement did not complete for a reason on
// the database's side that a retry can clear, and nothing it did was committed. Keys are SQLSTATE
// classes (2 characters) or codes (5).
const unavailableSqlStates: Record<string, string> = {
  "08": "connection exception (also PgBouncer's and Neon's proxy errors, 08P01)",
  "53": "insufficient resources: too many connections 53300, out of memory, disk full",
  "57P01": "terminated by an administrator, a fast or immediate shutdown, a compute suspend",
  "57P02": "another backend crashed; the server is resetting",
  "57P03": "starting up, shutting down or in crash recovery",
  "57P05": "idle_session_timeout",
  "57014": "canceled: the role's statement_timeout (or a cancel request)",
  "55P03": "lock_timeout (lock_not_available)",
  "25P03": "idle_in_transaction_session_timeout closed the session",
  "40001": "serialization failure; a retry runs against the winner's result",
  "40P01": "deadlock detected; the other side went ahead",
};

// Node / undici / workerd codes of a failed socket (the Neon HTTP path's fetch, the bridge).
const unavailableSystemCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_CLOSED",
]);

// Messages the driver (pg inside @neondatabase/serverless 1.2.0), workerd and Neon's proxy write
// themselves; matched from the start, so no text a statement carried can match them.
const unavailableMessages = [
  /^Connection terminated/, // "unexpectedly", "due to connection timeout"
  /^Client has encountered a connection error and is not queryable/,
  /^timeout exceeded when trying to connect/, // the Pool's connectionTimeoutMillis
  /^Received network error or non-101 status code/, // WebSocket handshake failed
  /^Error connecting to database/, // NeonDbError: the HTTP path's fetch was rejected
  /^Server error \(HTTP status (429|500|502|503|504)\)/, // NeonDbError: the proxy could not serve
  /^Network connection lost/, // workerd
  /^Couldn't connect to compute node/, // Neon's proxy while a compute starts
];

function isUnavailableSqlState(code: string): boolean {
  return code.slice(0, 2) in unavailableSqlStates || code in unavailableSqlStates;
}

export function isDatabaseUnavailable(error: unknown): boolean {
  const state = sqlState(error);
  // A server error with a SQLSTATE is judged by its code alone (its message may quote values);
  // XX000 is how Neon's proxy reports its own failures, so those go on to the message check.
  if (state !== undefined && state !== "XX000") return isUnavailableSqlState(state);
  for (const e of errorChain(error)) {
    // drizzle's message is the statement and its parameters: never matched.
    if (e instanceof DrizzleQueryError) continue;
    const { code, message, type } = e as { code?: unknown; message?: unknown; type?: unknown };
    if (typeof code === "string" && unavailableSystemCodes.has(code)) return true;
    if (typeof message === "string" && unavailableMessages.some((pattern) => pattern.test(message)))
      return true;
    // The Neon driver reports a failed WebSocket as a bare ErrorEvent, not an Error.
    if (type === "error" && !(e instanceof Error)) return true;
  }
  return false;
}

/** The DomainError a thrown value should be answered with, or undefined for an internal error. */
export function toDomainError(error: unknown): DomainError | undefined {
  if (error instanceof DomainError) return error;
  if (isDatabaseUnavailable(error)) return new ServiceUnavailableError("db_unavailable", error);
  return undefined;
}
