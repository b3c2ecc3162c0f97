import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { idempotencyKeys } from "../db/schema/index.ts";

export interface IdempotencyScope {
  accountId: string;
  principal: string;
  operation: string;
  key: string;
}

const matches = (scope: IdempotencyScope) =>
  and(
    eq(idempotencyKeys.accountId, scope.accountId),
    eq(idempotencyKeys.principal, scope.principal),
    eq(idempotencyKeys.operation, scope.operation),
    eq(idempotencyKeys.key, scope.key),
  );

/** Claims the key; false when it was already claimed (waits for a concurrent claimer to finish). */
export async function claimIdempotencyKey(
  db: Executor,
  scope: IdempotencyScope,
  requestHash: string,
): Promise<boolean> {
  const rows = await db
    .insert(idempotencyKeys)
    .values({ ...scope, requestHash })
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key });
  return rows.length === 1;
}

export async function findIdempotencyRecord(db: Executor, scope: IdempotencyScope) {
  const [row] = await db
    .select({
      requestHash: idempotencyKeys.requestHash,
      responseStatus: idempotencyKeys.responseStatus,
      responseBody: idempotencyKeys.responseBody,
    })
    .from(idempotencyKeys)
    .where(matches(scope));
  return row;
}

export async function recordIdempotentResponse(
  db: Executor,
  scope: IdempotencyScope,
  status: number,
  body: unknown,
): Promise<void> {
  await db.update(idempotencyKeys).set({ responseStatus: status, responseBody: body }).where(matches(scope));
}

/**
 * Deletes up to `limit` records older than `ttlHours` by the database clock, oldest first, in one
 * statement (the age index serves it). Rows another tick is deleting, or a create still holds,
 * are skipped. Returns how many went.
 */
export async function deleteExpiredIdempotencyKeys(db: Executor, ttlHours: number, limit: number) {
  const result = await db.execute<{ purged: number }>(sql`
    WITH expired AS (
      SELECT account_id, principal, operation, key FROM idempotency_keys
      WHERE created_at < now() - make_interval(hours => ${ttlHours}::int)
      ORDER BY created_at LIMIT ${limit} FOR UPDATE SKIP LOCKED
    ), deleted AS (
      DELETE FROM idempotency_keys k USING expired e
      WHERE k.account_id = e.account_id AND k.principal = e.principal
        AND k.operation = e.operation AND k.key = e.key
      RETURNING 1
    )
    SELECT count(*)::int AS purged FROM deleted`);
  return result.rows[0]?.purged ?? 0;
}
