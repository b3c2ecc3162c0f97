import type { SQL } from "drizzle-orm";
import type { Budget } from "../cron/budget.ts";
import type { Database, Executor } from "../db/client.ts";
import { authzSchema, type EdgeOf, type ObjectRef, type ObjectType, type Relationship } from "./model.ts";
import {
  claimDueEntries,
  claimLeaseSeconds,
  deleteEntry,
  enqueueDeregistration,
  recordFailedAttempt,
  releaseEntries,
} from "./outbox-repo.ts";
import {
  deleteObjectsRelationships,
  deleteRelationship,
  insertEdgesFrom,
  insertRelationships,
} from "./repo.ts";
import { permissionPredicate } from "./sql-compiler.ts";
import { compileLookup, type SubjectLookup } from "./sql-lookup.ts";
import { type PrincipalRef, principalSubject } from "./subjects.ts";

/**
 * One create's registration in the graph (ADR 0020), from `Authorizer.register`. `persist` joins
 * the resource's transaction; `keep` narrows the registration to edges of rows the write really
 * created (a run that already existed creates none): the postgres backend writes only those, a
 * backend that registered first removes the others. `settle` runs once the transaction is over:
 * `committed` false (with its `cause`) undoes the whole registration, true undoes what was not
 * kept; a transaction that never called `persist` (an Idempotency-Key replay) kept nothing.
 */
export interface Registration {
  persist(tx: Executor, keep?: (edge: Relationship) => boolean): Promise<void>;
  settle(committed: boolean, cause?: unknown): Promise<void>;
}

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
  /**
   * Starts registering a resource's edges, fail-closed: a backend outside the database writes
   * them here and throws if it cannot, so nothing is created. See `createRegistered` in
   * src/resources/create-path.ts, the one caller.
   */
  register(edges: Relationship[]): Promise<Registration>;
  /**
   * Deletes resources and removes every edge naming them, as resource or subject. With a cron
   * job's `budget`, calls to another service spend from it, and what it cannot cover is queued in
   * the delete's own transaction for the outbox drain.
   */
  deleteRegistered<T>(write: TransactionalDelete<T>, budget?: Budget): Promise<T>;
  /**
   * A backend whose edges are rows of the same database: the INSERT (a CTE body) of a create's
   * edges over the rows of `from`, so a create is one statement with its edges (register,
   * persist and settle in one; see src/resources/create-path.ts).
   */
  edgesInStatement?(from: SQL, edges: EdgeOf<SQL>[]): SQL;
  /** Calls to another service that deregistering one object of `type` costs (0 in the database). */
  deregistrationCost(type: ObjectRef["type"]): number;
  /**
   * The same backend with every call to another service spending from a cron job's `budget`
   * (none is made once it is spent). A backend inside the database returns itself.
   */
  withBudget?(budget: Budget): Authorizer;
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
  /**
   * The same predicate for a subject given as SQL: the statement's own `caller` CTE, before the
   * principal is known (auth/caller.ts). Only a backend whose tuples share the rows' database has
   * it; with any other, requests look their API key up before the verb runs.
   */
  statementPredicate?(subject: { type: SQL; id: SQL }, type: ObjectType, permission: string, id: SQL): SQL;
  /**
   * The reverse of `predicate`, for lists: how to find the resources of `type` the principal may
   * `permission`, from its own edges. Only a backend whose tuples share the rows' database has it;
   * without it lists filter with `predicate`.
   */
  lookup?(principal: PrincipalRef, type: ObjectType, permission: string): SubjectLookup;
  /**
   * Finishes deferred work (edges of deleted objects), at most `limit` entries per call, within
   * the job's budget; `deferred` counts entries (or parts of one) left for the next tick.
   */
  drainOutbox(db: Database, budget: Budget, limit?: number): Promise<OutboxCounts>;
  /** Finds and removes edges no row stands behind (nothing to find when tuples share the rows' transactions). */
  reconcile(db: Database, now: Date, budget: Budget): Promise<Record<string, number>>;
}

/** Removes every edge naming these objects of one type; replaceable to inject failures in tests. */
export type RemoveEdges = (tx: Executor, type: string, ids: string[]) => Promise<void>;

export const outboxBatchSize = 100;

export type OutboxCounts = { completed: number; failed: number; deferred: number };

/**
 * Backend `postgres`: tuples in the same database, written in the resource's own transaction.
 * Edges of deleted objects go in the delete's transaction too, behind a savepoint: if removing
 * them fails, the delete still commits with an outbox entry, and the cron removes them later.
 */
export function createPostgresAuthorizer(removeEdges: RemoveEdges = deleteObjectsRelationships): Authorizer {
  return {
    // Nothing to do before the transaction or after it: the edges are rows of the same commit.
    register: async (edges) => ({
      persist: (tx, keep) => insertRelationships(tx, keep ? edges.filter(keep) : edges),
      settle: async () => {},
    }),
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
    edgesInStatement: insertEdgesFrom,
    deregistrationCost: () => 0,
    // The same shape as the spicedb backend's: claim in one statement, then each entry's edges
    // and the entry itself go in a transaction of their own.
    async drainOutbox(db, budget, limit = outboxBatchSize) {
      const counts: OutboxCounts = { completed: 0, failed: 0, deferred: 0 };
      const untouched: number[] = [];
      for (const entry of await claimDueEntries(db, limit, claimLeaseSeconds)) {
        if (budget.exhausted()) {
          untouched.push(entry.id);
          continue;
        }
        try {
          await db.transaction(async (tx) => {
            await removeEdges(tx, entry.object_type, entry.object_ids);
            await deleteEntry(tx, entry.id);
          });
          counts.completed++;
        } catch (error) {
          await recordFailedAttempt(db, entry.id, error);
          counts.failed++;
        }
      }
      await releaseEntries(db, untouched);
      counts.deferred = untouched.length;
      return counts;
    },
    reconcile: async () => ({}),
    async writeEdges(tx, add, remove) {
      await insertRelationships(tx, add);
      for (const edge of remove) await deleteRelationship(tx, edge);
    },
    predicate: async (principal, type, permission, id) =>
      permissionPredicate(authzSchema, type, permission, id, principalSubject(principal)),
    statementPredicate: (subject, type, permission, id) =>
      permissionPredicate(authzSchema, type, permission, id, subject),
    lookup: (principal, type, permission) =>
      compileLookup(authzSchema, type, permission, principalSubject(principal)),
  };
}
