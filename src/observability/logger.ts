import { isDatabaseError } from "../db/pg-error.ts";

/** Structured logs: one JSON object per line. Callers never pass secrets or credentials. */
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export type LogSink = (line: string) => void;

export function createLogger(
  sink: LogSink = (line) => console.log(line),
  base: Record<string, unknown> = {},
): Logger {
  return {
    log(level, event, fields = {}) {
      sink(JSON.stringify({ level, event, ...base, ...fields, time: new Date().toISOString() }));
    },
    child(fields) {
      return createLogger(sink, { ...base, ...fields });
    },
  };
}

// Fields of a PostgreSQL error that name things in the schema or the server, never row values.
// `detail`, `hint`, `where`, `internalQuery` and the message can quote values; they are not read.
const databaseFields = [
  "severity",
  "routine",
  "constraint",
  "table",
  "column",
  "schema",
  "dataType",
] as const;
const maxFrames = 12;
const maxCauses = 3;

/**
 * What to log about an unexpected error, never the request: its class and code, the cause chain,
 * and the stack frames. A database error is logged by code (SQLSTATE) and names only: its message
 * (drizzle's is "Failed query: <sql> params: <values>"), detail and query text are left out.
 * Other errors keep their message. A stack's first lines repeat the message, so only frames are kept.
 */
export function describeError(error: unknown, depth = 0): Record<string, unknown> {
  if (typeof error !== "object" || error === null) {
    return { error_name: typeof error, error_message: String(error).slice(0, 500) };
  }
  const e = error as Record<string, unknown>;
  const database = isDatabaseError(error);
  const fields: Record<string, unknown> = { error_name: errorName(error) };
  if (typeof e.code === "string" || typeof e.code === "number") fields.error_code = e.code;
  if (database) {
    for (const name of databaseFields) {
      if (typeof e[name] === "string" && e[name] !== "") fields[`db_${name}`] = e[name];
    }
  } else if (typeof e.message === "string" && e.message !== "") {
    fields.error_message = e.message;
  }
  if (depth === 0 && typeof e.stack === "string") {
    const frames = stackFrames(e, e.stack, database);
    if (frames) fields.stack = frames;
  }
  const cause = e.cause ?? e.sourceError ?? (error instanceof Error ? undefined : e.error);
  if (cause !== undefined && depth < maxCauses) fields.cause = describeError(cause, depth + 1);
  return fields;
}

/** One line for an error shown to operators (e.g. stored with a failed outbox entry). */
export function summarizeError(error: unknown): string {
  const described = describeError(error);
  const parts: string[] = [];
  for (let d: Record<string, unknown> | undefined = described; d; d = d.cause as typeof d) {
    const code = d.error_code === undefined ? "" : ` ${String(d.error_code)}`;
    const message = d.error_message === undefined ? "" : `: ${String(d.error_message)}`;
    parts.push(`${String(d.error_name)}${code}${message}`);
  }
  return parts.join(" <- ");
}

function errorName(error: object): string {
  const ctor = error.constructor?.name;
  const name = (error as { name?: unknown }).name;
  // pg names its DatabaseError "error"; the class says more.
  if (ctor && ctor !== "Object" && (typeof name !== "string" || name === "Error" || name === "error"))
    return ctor;
  return typeof name === "string" ? name : (ctor ?? "Object");
}

// V8 (Node and workerd) opens a stack with `${name}: ${message}`, which may span lines and, for a
// database error, hold values: the frames are what follows it. When the opening is not the
// message (it was changed after the throw), a database error's stack is left out.
function stackFrames(error: Record<string, unknown>, stack: string, database: boolean): string | undefined {
  const header = error.message ? `${String(error.name)}: ${String(error.message)}` : String(error.name);
  let rest = stack;
  if (stack.startsWith(header)) rest = stack.slice(header.length);
  else if (database) return undefined;
  const frames = rest
    .split("\n")
    .filter((line) => /^\s+at /.test(line))
    .slice(0, maxFrames)
    .map((line) => line.trim());
  return frames.length > 0 ? frames.join("\n") : undefined;
}
