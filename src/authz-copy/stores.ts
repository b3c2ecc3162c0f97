// Each backend's store of relationships, seen the same way for copying the whole graph from one to
// the other (AUTHZ_BACKEND switch, ADR 0018): pages of one resource type's edges, idempotent
// writes, exact deletes.

import { type Relationship, resourcesOf } from "../authz/model.ts";
import { insertRelationships } from "../authz/repo.ts";
import type { SpiceDbClient } from "../authz/spicedb/client.ts";
import { maxPageSize } from "../authz/spicedb/permissions.ts";
import { changeEdges, fromJson } from "../authz/spicedb/relationships.ts";
import { storeTokens } from "../authz/spicedb/token-repo.ts";
import type { Database } from "../db/client.ts";
import { databaseNow, deleteEdges, type EdgeKey, edgePage } from "./repo.ts";

/**
 * A point in time both stores understand: a SpiceDB zedtoken (its store can be read as it was
 * then) and the database's clock (a postgres edge's `created_at` says whether it existed then).
 */
export interface Mark {
  token: string;
  at: string;
}

export interface EdgePage {
  edges: Relationship[];
  /** Where the next page starts; null after the last one. */
  next: string | null;
}

export interface GraphStore {
  readonly kind: "postgres" | "spicedb";
  /**
   * A page of the edges whose resource is of `type`, after `cursor`. With `mark`, as the store
   * held them then: SpiceDB reads its snapshot; postgres returns only edges that existed by then
   * (edges deleted since are gone from it).
   */
  readPage(type: string, cursor: string | null, mark?: Mark): Promise<EdgePage>;
  /** Writes the edges, leaving those that exist as they are (TOUCH, ON CONFLICT DO NOTHING). */
  add(edges: Relationship[]): Promise<void>;
  /** Deletes exactly these edges; a missing one is a no-op. */
  remove(edges: Relationship[]): Promise<void>;
}

/** Edges per page and per write: SpiceDB's limit for both. */
export const copyPageSize = maxPageSize;

export function postgresStore(db: Database): GraphStore & { now(): Promise<Date> } {
  return {
    kind: "postgres",
    async readPage(type, cursor, mark) {
      const after = cursor ? (JSON.parse(cursor) as EdgeKey) : null;
      const edges = await edgePage(db, type, after, copyPageSize, mark ? new Date(mark.at) : undefined);
      const last = edges.at(-1);
      const next =
        edges.length === copyPageSize && last
          ? JSON.stringify([last.resourceId, last.relation, last.subject.type, last.subject.id])
          : null;
      return { edges, next };
    },
    async add(edges) {
      for (let start = 0; start < edges.length; start += copyPageSize) {
        await insertRelationships(db, edges.slice(start, start + copyPageSize));
      }
    },
    async remove(edges) {
      for (let start = 0; start < edges.length; start += copyPageSize) {
        await deleteEdges(db, edges.slice(start, start + copyPageSize));
      }
    },
    now: () => databaseNow(db),
  };
}

type ReadItem = { relationship: Parameters<typeof fromJson>[0]; afterResultCursor?: { token?: string } };

/**
 * SpiceDB's store. With `db`, every write also records its zedtoken for the resources it touched
 * (authz_zedtokens), as the backend's own writes do, so single-resource checks read the copy.
 */
export function spicedbStore(
  client: SpiceDbClient,
  db?: Database,
): GraphStore & { token(): Promise<string> } {
  const write = async (add: Relationship[], remove: Relationship[]) => {
    const token = await changeEdges(client, add, remove);
    if (db && token) await storeTokens(db, resourcesOf([...add, ...remove]), token);
  };
  return {
    kind: "spicedb",
    async readPage(type, cursor, mark) {
      // A cursor only works with the arguments of the first page, consistency included.
      const items = await client.call<ReadItem[]>(
        "/v1/relationships/read",
        {
          consistency: mark ? { atExactSnapshot: { token: mark.token } } : { fullyConsistent: true },
          relationshipFilter: { resourceType: type },
          optionalLimit: copyPageSize,
          ...(cursor ? { optionalCursor: { token: cursor } } : {}),
        },
        { op: "read", resourceType: type },
        true,
      );
      const edges = items.map((item) => fromJson(item.relationship));
      const next = items.length === copyPageSize ? (items.at(-1)?.afterResultCursor?.token ?? null) : null;
      return { edges, next };
    },
    async add(edges) {
      for (let start = 0; start < edges.length; start += copyPageSize) {
        await write(edges.slice(start, start + copyPageSize), []);
      }
    },
    async remove(edges) {
      for (let start = 0; start < edges.length; start += copyPageSize) {
        await write([], edges.slice(start, start + copyPageSize));
      }
    },
    /** A zedtoken for now: any fully consistent read answers with one. */
    async token() {
      const answer = await client.call<{ checkedAt?: { token?: string } }>(
        "/v1/permissions/check",
        {
          consistency: { fullyConsistent: true },
          resource: { objectType: "account", objectId: "mark" },
          permission: "create_agent",
          subject: { object: { objectType: "user", objectId: "mark" } },
        },
        { op: "check", resourceType: "account" },
      );
      const token = answer.checkedAt?.token;
      if (!token) throw new Error("SpiceDB answered a check without a zedtoken");
      return token;
    },
  };
}
