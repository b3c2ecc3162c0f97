import { pgTable, text, timestamp } from "drizzle-orm/pg-core";

/** A tenant. Every other row carries its id, and every query filters on it. */
export const accounts = pgTable("accounts", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});
