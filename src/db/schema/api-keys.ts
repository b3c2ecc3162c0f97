import { sql } from "drizzle-orm";
import { check, customType, index, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { accounts } from "./accounts.ts";
import { accountRole, principalType } from "./enums.ts";

const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => "bytea" });

/**
 * A credential for one principal of one account. Only the SHA-256 of the secret is stored;
 * a revoked key keeps its row (revoked_at set) so its id is never reissued.
 */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    principalType: principalType("principal_type").notNull(),
    principalId: text("principal_id").notNull(),
    role: accountRole("role").notNull(),
    secretHash: bytea("secret_hash").notNull(),
    /** Set for agent keys: the agent whose worker the key's service account is. */
    agentId: text("agent_id"),
    creatorUserId: text("creator_user_id"),
    creatorServiceAccountId: text("creator_service_account_id"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
  },
  (table) => [
    index("api_keys_account_id_idx").on(table.accountId, table.createdAt),
    index("api_keys_agent_idx")
      .on(table.accountId, table.agentId, table.createdAt)
      .where(sql`${table.agentId} IS NOT NULL`),
    index("api_keys_creator_user_idx")
      .on(table.accountId, table.creatorUserId)
      .where(sql`${table.creatorUserId} IS NOT NULL`),
    index("api_keys_creator_service_account_idx")
      .on(table.accountId, table.creatorServiceAccountId)
      .where(sql`${table.creatorServiceAccountId} IS NOT NULL`),
    check(
      "api_keys_one_creator",
      sql`num_nonnulls(${table.creatorUserId}, ${table.creatorServiceAccountId}) <= 1`,
    ),
  ],
);
