import { and, eq } from "drizzle-orm";
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
