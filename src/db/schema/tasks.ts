import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { stateIn, stateText } from "../../lifecycle/lifecycle-sql.ts";
import {
  initialState,
  leasableStates,
  taskState as S,
  stepStatus,
  stepStatuses,
  taskStates,
} from "../../lifecycle/task-lifecycle.ts";
import { accounts } from "./accounts.ts";
import { agents } from "./agents.ts";

export const taskState = pgEnum("task_state", taskStates);

/** One unit of work. Lease columns are the fencing state: `lease_epoch` grows on every grant. */
export const tasks = pgTable(
  "tasks",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    agentId: text("agent_id")
      .notNull()
      .references(() => agents.id),
    type: text("type").notNull(),
    name: text("name"),
    state: taskState("state").notNull().default(initialState),
    priority: integer("priority").notNull().default(0),
    input: jsonb("input"),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    progress: jsonb("progress"),
    inputRequest: jsonb("input_request"),
    inputResponse: jsonb("input_response"),
    result: jsonb("result"),
    error: jsonb("error"),
    cancelReason: text("cancel_reason"),
    maxAttempts: integer("max_attempts").notNull(),
    attempts: integer("attempts").notNull().default(0),
    compensationAttempts: integer("compensation_attempts").notNull().default(0),
    /** Last compensation step number handed out; steps are numbered from 1 per task. */
    compensationSeq: integer("compensation_seq").notNull().default(0),
    redrivenFrom: text("redriven_from"),
    /** Set on runs spawned by a schedule: which one, and for which instant. */
    scheduleId: text("schedule_id"),
    scheduledFor: timestamp("scheduled_for", { withTimezone: true, mode: "date" }),
    leaseOwner: text("lease_owner"),
    leaseEpoch: bigint("lease_epoch", { mode: "number" }).notNull().default(0),
    leaseExpiresAt: timestamp("lease_expires_at", { withTimezone: true, mode: "date" }),
    lastHeartbeatAt: timestamp("last_heartbeat_at", { withTimezone: true, mode: "date" }),
    creatorUserId: text("creator_user_id"),
    creatorServiceAccountId: text("creator_service_account_id"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true, mode: "date" }),
  },
  (table) => [
    uniqueIndex("tasks_account_name_key")
      .on(table.accountId, table.name)
      .where(sql`${table.name} IS NOT NULL`),
    index("tasks_account_id_idx").on(table.accountId, table.id),
    // State-filtered lists of the whole account (admins' inbox, failed work) read a page, not a
    // scan; one more entry per task write (ADR 0016).
    index("tasks_account_state_idx").on(table.accountId, table.state, table.id),
    index("tasks_agent_id_idx").on(table.agentId, table.id),
    // Claims read these in ORDER BY order, so their cost does not grow with the backlog.
    index("tasks_claimable_idx")
      .on(table.agentId, table.priority.desc(), table.id)
      .where(sql`${table.state} = ${stateText[S.submitted]}`),
    index("tasks_compensation_claimable_idx")
      .on(table.agentId, table.priority.desc(), table.id)
      .where(sql`${table.state} = ${stateText[S.compensating]} AND ${table.leaseOwner} IS NULL`),
    index("tasks_lease_expiry_idx")
      .on(table.leaseExpiresAt)
      .where(stateIn(sql`${table.state}`, leasableStates, stateText)),
    index("tasks_agent_lease_expiry_idx")
      .on(table.agentId, table.leaseExpiresAt)
      .where(stateIn(sql`${table.state}`, leasableStates, stateText)),
    // A schedule spawns each instant at most once, even when two ticks run at once.
    uniqueIndex("tasks_schedule_run_key")
      .on(table.scheduleId, table.scheduledFor)
      .where(sql`${table.scheduleId} IS NOT NULL`),
    index("tasks_finished_idx").on(table.finishedAt).where(sql`${table.finishedAt} IS NOT NULL`),
    index("tasks_creator_user_idx")
      .on(table.accountId, table.creatorUserId, table.id)
      .where(sql`${table.creatorUserId} IS NOT NULL`),
    index("tasks_creator_service_account_idx")
      .on(table.accountId, table.creatorServiceAccountId, table.id)
      .where(sql`${table.creatorServiceAccountId} IS NOT NULL`),
    check(
      "tasks_one_creator",
      sql`num_nonnulls(${table.creatorUserId}, ${table.creatorServiceAccountId}) <= 1`,
    ),
    check("tasks_max_attempts_range", sql`${table.maxAttempts} BETWEEN 1 AND 100`),
    check("tasks_attempts_nonnegative", sql`${table.attempts} >= 0`),
  ],
);

export const compensationStatus = pgEnum("compensation_status", stepStatuses);

/** Saga steps recorded by the leaseholder, undone in reverse `seq` order after a failure. */
export const taskCompensations = pgTable(
  "task_compensations",
  {
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    accountId: text("account_id").notNull(),
    kind: text("kind").notNull(),
    target: text("target").notNull(),
    payload: jsonb("payload"),
    status: compensationStatus("status").notNull().default(stepStatus.pending),
    outcome: jsonb("outcome"),
    recordedEpoch: bigint("recorded_epoch", { mode: "number" }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ name: "task_compensations_pkey", columns: [table.taskId, table.seq] })],
);

/** The audit trail: one row per transition or note, removed with its task. */
export const taskEvents = pgTable(
  "task_events",
  {
    id: bigint("id", { mode: "number" }).notNull().generatedAlwaysAsIdentity(),
    accountId: text("account_id").notNull(),
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    type: text("type").notNull(),
    fromState: taskState("from_state"),
    toState: taskState("to_state"),
    actorType: text("actor_type").notNull(),
    actorId: text("actor_id").notNull(),
    leaseEpoch: bigint("lease_epoch", { mode: "number" }),
    data: jsonb("data"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  // Keyed by task: a task's events are read in id order, and an event row is one index entry.
  // The id comes from an identity column, unique without an index of its own.
  (table) => [primaryKey({ name: "task_events_pkey", columns: [table.taskId, table.id] })],
);
