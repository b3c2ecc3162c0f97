import { sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";

/** How many of the given migrations (by journal timestamp) the database has applied. */
export async function countAppliedMigrations(db: Database, createdAts: number[]): Promise<number> {
  const result = await db.execute<{ applied: number }>(
    sql`SELECT count(*)::int AS applied FROM drizzle.__drizzle_migrations
        WHERE created_at = ANY(${`{${createdAts.join(",")}}`}::bigint[])`,
  );
  return result.rows[0]?.applied ?? 0;
}
