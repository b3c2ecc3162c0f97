// Zedtokens per resource (spicedb backend): one statement per function.
import { sql } from "drizzle-orm";
import type { Executor } from "../../db/client.ts";

export interface TokenedResource {
  type: string;
  id: string;
}

/** Records `token` as the freshest write for each resource (the newest write wins). */
export async function storeTokens(db: Executor, resources: TokenedResource[], token: string): Promise<void> {
  if (resources.length === 0) return;
  await db.execute(sql`
    INSERT INTO authz_zedtokens (resource_type, resource_id, token)
    SELECT type, id, ${token} FROM jsonb_to_recordset(${JSON.stringify(resources)}::jsonb) AS r(type text, id text)
    ON CONFLICT (resource_type, resource_id) DO UPDATE SET token = excluded.token, updated_at = now()`);
}

export async function findToken(db: Executor, type: string, id: string): Promise<string | undefined> {
  const result = await db.execute<{ token: string }>(
    sql`SELECT token FROM authz_zedtokens WHERE resource_type = ${type} AND resource_id = ${id}`,
  );
  return result.rows[0]?.token;
}

export async function deleteTokens(db: Executor, resources: TokenedResource[]): Promise<void> {
  if (resources.length === 0) return;
  await db.execute(sql`
    DELETE FROM authz_zedtokens t USING jsonb_to_recordset(${JSON.stringify(resources)}::jsonb) AS r(type text, id text)
    WHERE t.resource_type = r.type AND t.resource_id = r.id`);
}
