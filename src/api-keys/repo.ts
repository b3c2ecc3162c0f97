import { and, eq, isNull, type SQL, sql } from "drizzle-orm";
import type { Database, Executor } from "../db/client.ts";
import { apiKeys } from "../db/schema/index.ts";

export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type NewApiKeyRow = typeof apiKeys.$inferInsert;

export async function insertApiKey(db: Executor, values: NewApiKeyRow): Promise<ApiKeyRow> {
  const [row] = await db.insert(apiKeys).values(values).returning();
  if (!row) throw new Error("insert returned no row");
  return row;
}

export async function findAnyApiKey(db: Executor, id: string): Promise<ApiKeyRow | undefined> {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id));
  return row;
}

/**
 * The `caller` CTE of a statement that authenticates its own API key (auth/caller.ts): the
 * unrevoked key `keyId` if `secretHashHex` is its secret's SHA-256, as the caller columns plus the
 * principal's subject id in the graph (authz/subjects.ts, computed the same way in SQL). The
 * digests are compared by XOR over all 256 bits and a population count: no early exit, so the
 * time taken says nothing about how much of the digest matched.
 */
export function keyCallerCte(keyId: string, secretHashHex: string): SQL {
  return sql`caller AS MATERIALIZED (
    SELECT k.id AS caller_key_id, k.account_id AS caller_account_id,
      k.principal_type::text AS caller_principal_type, k.principal_id AS caller_principal_id,
      k.role AS caller_role,
      k.account_id || '/' || rtrim(translate(encode(convert_to(k.principal_id, 'UTF8'), 'base64'),
        E'+/\\n', '-_'), '=') AS caller_subject_id
    FROM api_keys k
    WHERE k.id = ${keyId} AND k.revoked_at IS NULL
      AND bit_count(('x' || encode(k.secret_hash, 'hex'))::bit(256) # ('x' || ${secretHashHex}::text)::bit(256)) = 0)`;
}

export async function findUnrevokedApiKey(db: Database, id: string): Promise<ApiKeyRow | undefined> {
  const [row] = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)));
  return row;
}

/** Revokes once; revoking again keeps the first instant. Undefined when no such key exists. */
export async function revokeApiKey(db: Executor, id: string): Promise<ApiKeyRow | undefined> {
  const [row] = await db
    .update(apiKeys)
    .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
    .where(eq(apiKeys.id, id))
    .returning();
  return row;
}

/** Whether the principal still holds an unrevoked key with this role in the account. */
export async function principalHoldsRole(
  db: Executor,
  key: Pick<ApiKeyRow, "accountId" | "principalType" | "principalId" | "role">,
): Promise<boolean> {
  const [row] = await db
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .where(
      and(
        eq(apiKeys.accountId, key.accountId),
        eq(apiKeys.principalType, key.principalType),
        eq(apiKeys.principalId, key.principalId),
        eq(apiKeys.role, key.role),
        isNull(apiKeys.revokedAt),
      ),
    )
    .limit(1);
  return row !== undefined;
}

/** Serializes key issue and revocation for one principal until the transaction ends. */
export async function lockPrincipalKeys(db: Executor, accountId: string, principal: string): Promise<void> {
  await db.execute(
    sql`SELECT pg_advisory_xact_lock(hashtextextended(${`keys:${accountId}:${principal}`}, 0))`,
  );
}
