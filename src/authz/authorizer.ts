import type { SQL } from "drizzle-orm";
import type { Database, Executor } from "../db/client.ts";
import { authzSchema, type ObjectRef, type ObjectType, type Relationship } from "./model.ts";
import { deleteEntry, enqueueDeregistration, lockDueEntries, recordFailedAttempt } from "./outbox-repo.ts";
import { deleteObjectsRelationships, deleteRelationship, insertRelationships } from "./repo.ts";
import { permissionPredicate } from "./sql-compiler.ts";
import { type PrincipalRef, principalSubject } from "./subjects.ts";

/**
 * Writes the resource's rows inside a transaction; `graphStep` joins that transaction. `keep`
 * narrows the registration to edges of rows the write really created (a run that already
 * existed creates none): the postgres backend writes only those; a backend that registered first
 * removes the others.
 */
export type TransactionalWrite<T> = (
  graphStep: (tx: Executor, keep?: (edge: Relationship) => boolean) => Promise<void>,
) => Promise<T>;

/** Deletes rows inside a transaction, then hands `deregister` the objects that are gone. */
export type TransactionalDelete<T> = (
  deregister: (tx: Executor, objects: ObjectRef[]) => Promise<void>,
) => Promise<T>;

/**
 * The authorization graph as the domain sees it. Services never talk to a backend directly, so a
 * backend that lives outside the database (SpiceDB: register first, compensate, outbox) can
 * replace this one without touching routes or services.
 */
export interface Authorizer {
  /** Creates a resource and registers its edges, fail-closed: either both exist or neither. */
  createRegistered<T>(edges: Relationship[], write: TransactionalWrite<T>): Promise<T>;
  /** Deletes resources and removes every edge naming them, as resource or subject. */
  deleteRegistered<T>(write: TransactionalDelete<T>): Promise<T>;
  /** Adds or removes single edges (grants, memberships) inside the caller's transaction. */
  writeEdges(tx: Executor, add: Relationship[], remove: Relationship[]): Promise<void>;
  /**
   * A SQL predicate that is TRUE when the principal holds `permission` on the object `id`.
   * `only`, when the caller knows it, lists the ids the statement can touch, so a backend outside
   * the database can check those instead of looking up everything the principal may reach.
   */
  predicate(
    principal: PrincipalRef,
    type: ObjectType,
    permission: string,
    id: SQL,
    only?: readonly string[],
  ): Promise<SQL>;
  /** Finishes deferred work (edges of deleted objects), at most `limit` entries per call. */
  drainOutbox(db: Database, limit?: number): Promise<{ completed: number; failed: number }>;
  /** Finds and removes edges no row stands behind (nothing to find when tuples share the rows' transactions). */
  reconcile(db: Database, now: Date): Promise<Record<string, number>>;
}

/** Removes every edge naming these objects of one type; replaceable to inject failures in tests. */
export type RemoveEdges = (tx: Executor, type: string, ids: string[]) => Promise<void>;

export const outboxBatchSize = 100;

/**
 * Backend `postgres`: tuples in the same database, written in the resource's own transaction.
 * Edges of deleted objects go in the delete's transaction too, behind a savepoint: if removing
 * them fails, the delete still commits with an outbox entry, and the cron removes them later.
 */
export function createPostgresAuthorizer(removeEdges: RemoveEdges = deleteObjectsRelationships): Authorizer {
  return {
    createRegistered: (edges, write) =>
      write((tx, keep) => insertRelationships(tx, keep ? edges.filter(keep) : edges)),
    deleteRegistered: (write) =>
      write(async (tx, objects) => {
        for (const [type, group] of Map.groupBy(objects, (object) => object.type)) {
          const ids = group.map((object) => object.id);
          try {
            await tx.transaction((savepoint) => removeEdges(savepoint, type, ids));
          } catch (error) {
            await enqueueDeregistration(tx, type, ids, error);
          }
        }
      }),
    async drainOutbox(db, limit = outboxBatchSize) {
      return db.transaction(async (tx) => {
        const counts = { completed: 0, failed: 0 };
        for (const entry of await lockDueEntries(tx, limit)) {
          try {
            await tx.transaction((savepoint) => removeEdges(savepoint, entry.object_type, entry.object_ids));
            await deleteEntry(tx, entry.id);
            counts.completed++;
          } catch (error) {
            await recordFailedAttempt(tx, entry.id, error);
            counts.failed++;
          }
        }
        return counts;
      });
    },
    reconcile: async () => ({}),
    async writeEdges(tx, add, remove) {
      await insertRelationships(tx, add);
      for (const edge of remove) await deleteRelationship(tx, edge);
    },
    predicate: async (principal, type, permission, id) =>
      permissionPredicate(authzSchema, type, permission, id, principalSubject(principal)),
  };
}
