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

/** What to log about an unexpected error: its class, message and stack, never the request. */
export function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    return {
      error_name: error.name,
      error_message: error.message,
      error_code: (error as { code?: unknown }).code,
      stack: error.stack,
    };
  }
  // The Neon driver reports WebSocket failures as ErrorEvent objects, not Errors.
  if (typeof error === "object" && error !== null && "message" in error) {
    return { error_name: error.constructor?.name, error_message: String(error.message) };
  }
  return { error_message: String(error) };
}
