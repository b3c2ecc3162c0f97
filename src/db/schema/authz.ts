import { bigserial, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Relationship tuples of the authorization graph (postgres backend), in SpiceDB's shape:
 * `resource_type:resource_id#relation@subject_type:subject_id[#subject_relation]`.
 * The primary key serves lookups from a resource; the second index, lookups from a subject.
 */
export const authzRelationships = pgTable(
  "authz_relationships",
  {
    resourceType: text("resource_type").notNull(),
    resourceId: text("resource_id").notNull(),
    relation: text("relation").notNull(),
    subjectType: text("subject_type").notNull(),
    subjectId: text("subject_id").notNull(),
    subjectRelation: text("subject_relation").notNull().default(""),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({
      name: "authz_relationships_pkey",
      columns: [
        table.resourceType,
        table.resourceId,
        table.relation,
        table.subjectType,
        table.subjectId,
        table.subjectRelation,
      ],
    }),
    // Lookups from a subject, and lists driven from one (ADR 0016): with resource_id after the
    // equality columns, a subject's edges of one type and relation come out in id order, so a
    // page reads only as many of them as it shows.
    index("authz_relationships_subject_resource_idx").on(
      table.subjectType,
      table.subjectId,
      table.resourceType,
      table.relation,
      table.resourceId,
      table.subjectRelation,
    ),
  ],
);

/**
 * Authorization work that could not be done with the write it belongs to, kept until the cron
 * finishes it (DESIGN §8 step 3): `deregister` removes every edge naming deleted objects (one
 * row per object type and delete); `remove_edges` removes exactly the edges a failed create
 * wrote (spicedb backend).
 */
export const authzOutbox = pgTable(
  "authz_outbox",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    operation: text("operation").notNull(),
    objectType: text("object_type").notNull(),
    objectIds: text("object_ids").array().notNull(),
    /** For `remove_edges` (a failed create's compensation): exactly the edges to remove. */
    edges: jsonb("edges"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (table) => [index("authz_outbox_due_idx").on(table.nextAttemptAt, table.id)],
);

/** Where the reconciler's sweep of SpiceDB resumes, per resource type (spicedb backend). */
export const authzSweepCursors = pgTable("authz_sweep_cursors", {
  resourceType: text("resource_type").primaryKey(),
  cursor: text("cursor"),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/**
 * The zedtoken of the last SpiceDB write that changed a resource's edges (spicedb backend),
 * stored in the same transaction as the row; checks of that resource read at least as fresh.
 */
export const authzZedtokens = pgTable(
  "authz_zedtokens",
  {
    resourceType: text("resource_type").notNull(),
    resourceId: text("resource_id").notNull(),
    token: text("token").notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ name: "authz_zedtokens_pkey", columns: [table.resourceType, table.resourceId] })],
);
