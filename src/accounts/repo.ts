import type { Database } from "../db/client.ts";
import { accounts } from "../db/schema/index.ts";

export type AccountRow = typeof accounts.$inferSelect;

export async function insertAccount(db: Database, values: { id: string; name: string }): Promise<AccountRow> {
  const [row] = await db.insert(accounts).values(values).returning();
  if (!row) throw new Error("insert returned no row");
  return row;
}
