import type { SQL } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { authzSchema, type ObjectRef, type ObjectType, type Relationship } from "./model.ts";
import { deleteObjectsRelationships, deleteRelationship, insertRelationships } from "./repo.ts";
import { permissionPredicate } from "./sql-compiler.ts";
import { type PrincipalRef, principalSubject } from "./subjects.ts";

/** Writes the resource's rows inside a transaction; `graphStep` joins that transaction. */
export type TransactionalWrite<T> = (graphStep: (tx: Executor) => Promise<void>) => Promise<T>;

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
  /** A SQL predicate that is TRUE when the principal holds `permission` on the object `id`. */
  predicate(principal: PrincipalRef, type: ObjectType, permission: string, id: SQL): Promise<SQL>;
}

/** Backend `postgres`: tuples in the same database, written in the resource's own transaction. */
export function createPostgresAuthorizer(): Authorizer {
  return {
    createRegistered: (edges, write) => write((tx) => insertRelationships(tx, edges)),
    deleteRegistered: (write) =>
      write(async (tx, objects) => {
        const byType = Map.groupBy(objects, (object) => object.type);
        for (const [type, group] of byType) {
          await deleteObjectsRelationships(
            tx,
            type,
            group.map((object) => object.id),
          );
        }
      }),
    async writeEdges(tx, add, remove) {
      await insertRelationships(tx, add);
      for (const edge of remove) await deleteRelationship(tx, edge);
    },
    predicate: async (principal, type, permission, id) =>
      permissionPredicate(authzSchema, type, permission, id, principalSubject(principal)),
  };
}
