import { bigint, index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * One row per admin request that reached a route (DESIGN §14): what was done, with which of the
 * two admin tokens, to what, for which request, and what it answered. Written by the admin
 * middleware after the route answers (ADR 0017), so a route added later is audited too.
 */
export const adminAuditEvents = pgTable(
  "admin_audit_events",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    action: text("action").notNull(),
    /** `current` (ADMIN_TOKEN) or `next` (ADMIN_TOKEN_NEXT), never the token itself. */
    tokenSlot: text("token_slot").notNull(),
    requestId: text("request_id").notNull(),
    accountId: text("account_id"),
    targetType: text("target_type"),
    targetId: text("target_id"),
    /** Non-secret facts about the action (e.g. the role granted, a backfill's counts). */
    detail: jsonb("detail").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (table) => [index("admin_audit_events_created_idx").on(table.createdAt)],
);
