import { index, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

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
    index("authz_relationships_subject_idx").on(
      table.subjectType,
      table.subjectId,
      table.resourceType,
      table.relation,
    ),
  ],
);
