import { index, integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/** A create's response, kept per account, principal, operation and Idempotency-Key. */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    accountId: text("account_id").notNull(),
    principal: text("principal").notNull(),
    operation: text("operation").notNull(),
    key: text("key").notNull(),
    requestHash: text("request_hash").notNull(),
    responseStatus: integer("response_status"),
    responseBody: jsonb("response_body"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({
      name: "idempotency_keys_pkey",
      columns: [table.accountId, table.principal, table.operation, table.key],
    }),
    // The cron purges records older than IDEMPOTENCY_TTL_HOURS, oldest first.
    index("idempotency_keys_created_idx").on(table.createdAt),
  ],
);
