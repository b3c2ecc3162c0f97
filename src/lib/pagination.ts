import { ValidationError } from "../errors/domain-error.ts";

export interface Page {
  limit: number;
  /** Only items with an id below this one (lists are newest first, ids sort by creation time). */
  before: string | undefined;
}

export function encodeCursor(lastId: string): string {
  return btoa(JSON.stringify({ before: lastId })).replaceAll("=", "");
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = JSON.parse(atob(cursor)) as { before?: unknown };
    if (typeof parsed.before === "string" && /^[a-z]{3}_[0-9a-z]{26}$/.test(parsed.before))
      return parsed.before;
  } catch {}
  throw new ValidationError([{ location: "query", pointer: "/cursor", message: "Invalid cursor." }]);
}

/** Lists fetch limit + 1 rows; the extra one only says whether another page exists. */
export function toPage<T extends { id: string }>(
  rows: T[],
  limit: number,
): { items: T[]; next_cursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next_cursor: rows.length > limit && last ? encodeCursor(last.id) : null };
}
