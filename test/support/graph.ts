import { connectSession } from "../../scripts/local/database-url.ts";
import type { TestDatabase } from "./test-database.ts";

/** Runs one SQL query on the test file's database (outside the app) and returns the rows. */
export async function queryRows<T = Record<string, unknown>>(
  database: TestDatabase,
  text: string,
  params: unknown[] = [],
) {
  const session = await connectSession(database.url, database.proxy);
  try {
    return (await session.query(text, params)).rows as T[];
  } finally {
    await session.end();
  }
}

/** How many relationship tuples name the object, as resource or as subject. */
export async function edgesNaming(database: TestDatabase, id: string): Promise<number> {
  const rows = await queryRows<{ n: number }>(
    database,
    "SELECT count(*)::int AS n FROM authz_relationships WHERE resource_id = $1 OR subject_id = $1",
    [id],
  );
  return rows[0]?.n ?? 0;
}
