// The `idempotency` cron job (DESIGN §8 step 4): records older than IDEMPOTENCY_TTL_HOURS go, in
// bounded batches, until none is left or the job's budget is spent. Once a key's record is gone
// the key is free: the same key with the same body creates a new resource (docs/operations.md).
import type { Budget } from "../cron/budget.ts";
import type { Database } from "../db/client.ts";
import { deleteExpiredIdempotencyKeys } from "./repo.ts";

export const idempotencyPurgeBatchSize = 1000;

export async function purgeExpiredIdempotencyKeys(
  deps: { db: Database; budget: Budget },
  ttlHours: number,
  limit = idempotencyPurgeBatchSize,
) {
  let purged = 0;
  let batches = 0;
  let budgetSpent = false;
  for (;;) {
    if (deps.budget.exhausted()) {
      budgetSpent = true;
      break;
    }
    const deleted = await deleteExpiredIdempotencyKeys(deps.db, ttlHours, limit);
    batches++;
    purged += deleted;
    if (deleted < limit) break;
  }
  return { purged, batches, budget_spent: budgetSpent ? 1 : 0 };
}
