// The one way a resource is created (ADR 0020): register, persist, settle — top to bottom.
import type { Authorizer } from "../authz/authorizer.ts";
import type { Relationship } from "../authz/model.ts";
import type { Database, Transaction } from "../db/client.ts";

/**
 * What a create's transaction wrote: the `value` it answers with and, when not every edge of the
 * registration belongs to a row it created, which ones do (`() => false`: none of them).
 */
export interface Persisted<T> {
  value: T;
  keep?: (edge: Relationship) => boolean;
}

/**
 * Creates a resource and its edges, fail-closed: either both exist or neither. `persist` writes
 * the rows in the create's transaction (wrap it in `idempotent` for an Idempotency-Key).
 */
export async function createRegistered<T>(
  deps: { db: Database; authorizer: Authorizer },
  edges: Relationship[],
  persist: (tx: Transaction) => Promise<Persisted<T>>,
): Promise<T> {
  // 1. Register: a backend outside the database writes the edges now; if it cannot, nothing is created.
  const registration = await deps.authorizer.register(edges);
  let value: T;
  try {
    // 2. Persist: the rows and the registration's share of them (edges, or a zedtoken) commit together.
    value = await deps.db.transaction(async (tx) => {
      const persisted = await persist(tx);
      await registration.persist(tx, persisted.keep);
      return persisted.value;
    });
  } catch (error) {
    await registration.settle(false, error);
    throw error;
  }
  // 3. Settle: whatever was registered and not kept is removed again.
  await registration.settle(true);
  return value;
}
