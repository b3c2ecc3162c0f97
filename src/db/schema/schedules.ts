import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { overlapPolicies } from "../../lifecycle/schedule-overlap.ts";
import { accounts } from "./accounts.ts";
import { agents } from "./agents.ts";

export const scheduleOverlap = pgEnum("schedule_overlap", overlapPolicies);

const instant = <N extends string>(name: N) => timestamp(name, { withTimezone: true, mode: "date" });

/**
 * A cron expression that spawns tasks under its agent. The firing job plans from a row it read,
 * then applies only if `revision` is unchanged, so edits and parallel ticks never double-spawn.
 */
export const schedules = pgTable(
  "schedules",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    agentId: text("agent_id")
      .notNull()
      .references(() => agents.id),
    name: text("name").notNull(),
    cron: text("cron").notNull(),
    timezone: text("timezone").notNull().default("UTC"),
    taskType: text("task_type").notNull(),
    taskInput: jsonb("task_input"),
    taskMaxAttempts: integer("task_max_attempts").notNull(),
    overlap: scheduleOverlap("overlap").notNull().default("skip"),
    catchupWindowSeconds: integer("catchup_window_seconds").notNull().default(3600),
    paused: boolean("paused").notNull().default(false),
    /** The next cron instant to consider; null while paused. */
    nextFireAt: instant("next_fire_at"),
    /** The latest instant already handled (spawned, buffered or counted missed). */
    lastScheduledFor: instant("last_scheduled_for"),
    /** `buffer_one`: the instant waiting for the previous run to finish. */
    bufferedFor: instant("buffered_for"),
    lastTaskId: text("last_task_id"),
    missedFires: integer("missed_fires").notNull().default(0),
    revision: integer("revision").notNull().default(0),
    creatorUserId: text("creator_user_id"),
    creatorServiceAccountId: text("creator_service_account_id"),
    createdAt: instant("created_at").notNull().defaultNow(),
    updatedAt: instant("updated_at").notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex("schedules_agent_name_key").on(table.agentId, table.name),
    index("schedules_account_agent_idx").on(table.accountId, table.agentId, table.id),
    index("schedules_due_idx").on(table.nextFireAt).where(sql`NOT ${table.paused}`),
    index("schedules_buffered_idx")
      .on(table.bufferedFor)
      .where(sql`${table.bufferedFor} IS NOT NULL AND NOT ${table.paused}`),
    index("schedules_creator_user_idx")
      .on(table.accountId, table.creatorUserId, table.id)
      .where(sql`${table.creatorUserId} IS NOT NULL`),
    index("schedules_creator_service_account_idx")
      .on(table.accountId, table.creatorServiceAccountId, table.id)
      .where(sql`${table.creatorServiceAccountId} IS NOT NULL`),
    check(
      "schedules_one_creator",
      sql`num_nonnulls(${table.creatorUserId}, ${table.creatorServiceAccountId}) <= 1`,
    ),
    check("schedules_task_max_attempts_range", sql`${table.taskMaxAttempts} BETWEEN 1 AND 100`),
    check("schedules_catchup_window_range", sql`${table.catchupWindowSeconds} BETWEEN 0 AND 604800`),
    check("schedules_missed_fires_nonnegative", sql`${table.missedFires} >= 0`),
  ],
);
