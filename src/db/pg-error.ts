/** The SQLSTATE of a PostgreSQL error, looking through drizzle's wrapping. */
export function sqlState(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export const foreignKeyViolation = "23503";
export const uniqueViolation = "23505";
