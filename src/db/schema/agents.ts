import { sql } from "drizzle-orm";
import { check, index, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { accounts } from "./accounts.ts";

/** A kind of work and the workers that do it; tasks belong to one agent. */
export const agents = pgTable(
  "agents",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    name: text("name").notNull(),
    description: text("description"),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    creatorUserId: text("creator_user_id"),
    creatorServiceAccountId: text("creator_service_account_id"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex("agents_account_name_key").on(table.accountId, table.name),
    index("agents_account_id_idx").on(table.accountId, table.id),
    index("agents_creator_user_idx")
      .on(table.accountId, table.creatorUserId, table.id)
      .where(sql`${table.creatorUserId} IS NOT NULL`),
    index("agents_creator_service_account_idx")
      .on(table.accountId, table.creatorServiceAccountId, table.id)
      .where(sql`${table.creatorServiceAccountId} IS NOT NULL`),
    check(
      "agents_one_creator",
      sql`num_nonnulls(${table.creatorUserId}, ${table.creatorServiceAccountId}) <= 1`,
    ),
  ],
);
