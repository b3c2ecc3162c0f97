// Schedules rows: one statement per function, each scoped to the account and the agent, with the
// caller's permission in its WHERE.
import { type SQL, sql } from "drizzle-orm";
import type { AccessProbe } from "../authz/probe.ts";
import { type ListScope, listStatement } from "../authz/sql-lookup.ts";
import type { Executor } from "../db/client.ts";
import { columnList, type RowOf } from "../db/rows.ts";
import { schedules } from "../db/schema/schedules.ts";
import type { OverlapPolicy } from "../lifecycle/schedule-overlap.ts";

/** A schedules row as SQL returns it, typed from the drizzle table. */
export type ScheduleRecord = RowOf<typeof schedules>;

export const scheduleColumns = columnList(schedules);
/** The same columns, qualified by a table alias. */
export const scheduleColumnsOf = (alias: string) => columnList(schedules, { alias });

/** The fields a client sets; the rest are the firing job's bookkeeping. */
export interface ScheduleSettings {
  name: string;
  cron: string;
  timezone: string;
  taskType: string;
  taskInput: unknown;
  taskMaxAttempts: number;
  overlap: OverlapPolicy;
  catchupWindowSeconds: number;
  paused: boolean;
  nextFireAt: Date | null;
}

const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));

/** Inserts only when the agent is in the account and `allowedOnAgent` holds on it. */
export async function insertScheduleIfAllowed(
  db: Executor,
  schedule: ScheduleSettings & {
    id: string;
    accountId: string;
    agentId: string;
    creator: { creator_user_id: string | null; creator_service_account_id: string | null };
  },
  allowedOnAgent: SQL,
): Promise<ScheduleRecord | undefined> {
  const s = schedule;
  const result = await db.execute<ScheduleRecord>(sql`
    INSERT INTO schedules (id, account_id, agent_id, name, cron, timezone, task_type, task_input,
                           task_max_attempts, overlap, catchup_window_seconds, paused, next_fire_at,
                           creator_user_id, creator_service_account_id)
    SELECT ${s.id}, ${s.accountId}, agents.id, ${s.name}, ${s.cron}, ${s.timezone}, ${s.taskType},
           ${json(s.taskInput)}::jsonb, ${s.taskMaxAttempts}::int, ${s.overlap}::schedule_overlap,
           ${s.catchupWindowSeconds}::int, ${s.paused}::boolean, ${s.nextFireAt}::timestamptz,
           ${s.creator.creator_user_id}, ${s.creator.creator_service_account_id}
    FROM agents WHERE agents.id = ${s.agentId} AND agents.account_id = ${s.accountId} AND ${allowedOnAgent}
    RETURNING ${scheduleColumns}`);
  return result.rows[0];
}

export async function findSchedule(
  db: Executor,
  accountId: string,
  agentId: string,
  id: string,
  visible: SQL,
): Promise<ScheduleRecord | undefined> {
  const result = await db.execute<ScheduleRecord>(sql`
    SELECT ${scheduleColumns} FROM schedules
    WHERE id = ${id} AND account_id = ${accountId} AND agent_id = ${agentId} AND ${visible}`);
  return result.rows[0];
}

/** A page of the agent's schedules the scope lets the caller read, newest first. */
export async function listSchedules(
  db: Executor,
  accountId: string,
  agentId: string,
  scope: ListScope,
  limit: number,
  before: string | undefined,
): Promise<ScheduleRecord[]> {
  const statement = listStatement(scope, {
    forward: (visible) => sql`
      SELECT ${scheduleColumns} FROM schedules
      WHERE account_id = ${accountId} AND agent_id = ${agentId} AND ${visible}
        ${before ? sql`AND id < ${before}` : sql``}
      ORDER BY id DESC LIMIT ${limit + 1}`,
    driven: {
      row: (id) => sql`SELECT ${scheduleColumns} FROM schedules
        WHERE schedules.id = ${id} AND account_id = ${accountId} AND agent_id = ${agentId}`,
      before,
      take: limit + 1,
      // A schedule's parent_agent edge names its agent_id: only that agent's edges can match.
      pins: { parent_agent: agentId },
    },
  });
  const result = await db.execute<ScheduleRecord>(statement);
  return result.rows;
}

export type LockedSchedule = ScheduleRecord & AccessProbe;

/** Reads the schedule and locks it for an edit, saying whether the caller may read and edit it. */
export async function lockScheduleForEdit(
  db: Executor,
  accountId: string,
  agentId: string,
  id: string,
  readable: SQL,
  permitted: SQL,
): Promise<LockedSchedule | undefined> {
  const result = await db.execute<LockedSchedule>(sql`
    SELECT ${scheduleColumns}, ${readable} AS readable, ${permitted} AS permitted FROM schedules
    WHERE id = ${id} AND account_id = ${accountId} AND agent_id = ${agentId} FOR UPDATE`);
  return result.rows[0];
}

/**
 * Writes an edit to a row locked by `lockScheduleForEdit`. Resuming or changing when it fires
 * drops the buffered run, so a resumed schedule starts from now without a backlog.
 */
export async function updateScheduleSettings(
  db: Executor,
  accountId: string,
  id: string,
  settings: ScheduleSettings,
  dropBuffered: boolean,
): Promise<ScheduleRecord> {
  const s = settings;
  const result = await db.execute<ScheduleRecord>(sql`
    UPDATE schedules SET name = ${s.name}, cron = ${s.cron}, timezone = ${s.timezone},
      task_type = ${s.taskType}, task_input = ${json(s.taskInput)}::jsonb, task_max_attempts = ${s.taskMaxAttempts},
      overlap = ${s.overlap}::schedule_overlap, catchup_window_seconds = ${s.catchupWindowSeconds}, paused = ${s.paused},
      next_fire_at = ${s.nextFireAt}, buffered_for = CASE WHEN ${dropBuffered} THEN NULL ELSE buffered_for END,
      revision = revision + 1, updated_at = now()
    WHERE id = ${id} AND account_id = ${accountId}
    RETURNING ${scheduleColumns}`);
  return result.rows[0] as ScheduleRecord;
}

export async function deleteScheduleIfAllowed(
  db: Executor,
  accountId: string,
  agentId: string,
  id: string,
  allowed: SQL,
): Promise<{ id: string } | undefined> {
  const result = await db.execute<{ id: string }>(sql`
    DELETE FROM schedules WHERE id = ${id} AND account_id = ${accountId} AND agent_id = ${agentId} AND ${allowed}
    RETURNING id`);
  return result.rows[0];
}

export async function probeSchedule(
  db: Executor,
  accountId: string,
  agentId: string,
  id: string,
  readable: SQL,
  permitted: SQL,
): Promise<AccessProbe | undefined> {
  const result = await db.execute<AccessProbe>(sql`
    SELECT ${readable} AS readable, ${permitted} AS permitted FROM schedules
    WHERE id = ${id} AND account_id = ${accountId} AND agent_id = ${agentId}`);
  return result.rows[0];
}
