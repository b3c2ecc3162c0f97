// Spawning a schedule's runs: each a task carrying the schedule's creator, `schedule_id` and
// `scheduled_for`, unique per (schedule_id, scheduled_for). One statement per function.
import { type SQL, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { terminalStates } from "../lifecycle/task-lifecycle.ts";
import { createdEvents } from "../tasks/event-insert.ts";
import { decodeTask, type TaskRecord, taskColumns } from "../tasks/record.ts";
import { type ScheduleRecord, scheduleColumnsOf } from "./repo.ts";

const taskFromSchedule = sql.raw(`id, account_id, agent_id, type, input, max_attempts,
  creator_user_id, creator_service_account_id, schedule_id, scheduled_for`);

/**
 * "Trigger now": one run for `scheduledFor`, whatever the overlap policy, when `allowed` holds.
 * It becomes the schedule's latest run, so `skip` and `buffer_one` wait for it too.
 */
export async function spawnRunNow(
  db: Executor,
  run: {
    accountId: string;
    agentId: string;
    scheduleId: string;
    taskId: string;
    scheduledFor: Date;
    actor: { type: string; id: string };
  },
  allowed: SQL,
): Promise<TaskRecord | undefined> {
  const result = await db.execute<TaskRecord>(sql`
    WITH schedule AS (
      UPDATE schedules SET last_task_id = ${run.taskId}, revision = revision + 1, updated_at = now()
      WHERE id = ${run.scheduleId} AND account_id = ${run.accountId} AND agent_id = ${run.agentId} AND ${allowed}
      RETURNING *
    ), inserted AS (
      INSERT INTO tasks (${taskFromSchedule})
      SELECT ${run.taskId}, account_id, agent_id, task_type, task_input, task_max_attempts,
             creator_user_id, creator_service_account_id, id, ${run.scheduledFor}::timestamptz
      FROM schedule
      RETURNING ${taskColumns}
    ), events AS (${createdEvents(
      sql`inserted`,
      run.actor,
      sql`jsonb_build_object('schedule_id', schedule_id, 'scheduled_for', scheduled_for, 'triggered', true)`,
    )})
    SELECT * FROM inserted`);
  return result.rows[0] && decodeTask(result.rows[0]);
}

export type DueScheduleRecord = ScheduleRecord & { previous_live: boolean };

const terminal = sql.join(
  terminalStates.map((state) => sql`${state}::task_state`),
  sql`, `,
);

/**
 * Schedules with work at `now`: an instant due, or a buffered run whose predecessor finished.
 * Read without locks; the plan made from them is applied only to unchanged rows.
 */
export async function selectDueSchedules(
  db: Executor,
  now: Date,
  limit: number,
): Promise<DueScheduleRecord[]> {
  const result = await db.execute<DueScheduleRecord>(sql`
    SELECT ${scheduleColumnsOf("s")},
           (t.id IS NOT NULL AND t.state NOT IN (${terminal})) AS previous_live
    FROM schedules s LEFT JOIN tasks t ON t.id = s.last_task_id AND t.account_id = s.account_id
    WHERE NOT s.paused
      AND (s.next_fire_at <= ${now}::timestamptz
           OR (s.buffered_for IS NOT NULL AND (t.id IS NULL OR t.state IN (${terminal}))))
    ORDER BY s.next_fire_at NULLS LAST, s.id
    LIMIT ${limit}`);
  return result.rows;
}

/** How one schedule moves on after a firing pass; applied only if its `revision` is unchanged. */
export interface ScheduleAdvance {
  schedule_id: string;
  account_id: string;
  revision: number;
  next_fire_at: string | null;
  last_scheduled_for: string | null;
  buffered_for: string | null;
  missed: number;
}

export interface PlannedRun {
  task_id: string;
  schedule_id: string;
  scheduled_for: string;
}

export type FiringResult = {
  schedule_ids: string[];
  spawned: { id: string; schedule_id: string }[];
};

/**
 * Applies a firing plan in one statement: locks the planned schedules that nobody changed since
 * they were read (skipping rows another tick holds, and schedules whose agent is being deleted),
 * inserts their runs with `created` events, and advances them. The unique
 * (schedule_id, scheduled_for) index turns any run that exists already into a no-op.
 */
export async function applyFiringPlan(
  db: Executor,
  advances: ScheduleAdvance[],
  runs: PlannedRun[],
): Promise<FiringResult> {
  const result = await db.execute<FiringResult>(sql`
    WITH plan AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(advances)}::jsonb) AS p(schedule_id text,
        account_id text, revision int, next_fire_at timestamptz, last_scheduled_for timestamptz,
        buffered_for timestamptz, missed int)
    ), runs AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(runs)}::jsonb)
        AS r(task_id text, schedule_id text, scheduled_for timestamptz)
    ), locked AS (
      SELECT s.* FROM schedules s
      JOIN plan p ON p.schedule_id = s.id AND p.account_id = s.account_id AND p.revision = s.revision
      JOIN agents a ON a.id = s.agent_id AND a.account_id = s.account_id
      WHERE NOT s.paused
      FOR UPDATE OF s SKIP LOCKED FOR KEY SHARE OF a SKIP LOCKED
    ), inserted AS (
      INSERT INTO tasks (${taskFromSchedule})
      SELECT r.task_id, l.account_id, l.agent_id, l.task_type, l.task_input, l.task_max_attempts,
             l.creator_user_id, l.creator_service_account_id, l.id, r.scheduled_for
      FROM runs r JOIN locked l ON l.id = r.schedule_id
      ON CONFLICT (schedule_id, scheduled_for) WHERE schedule_id IS NOT NULL DO NOTHING
      RETURNING id, account_id, state, schedule_id, scheduled_for
    ), events AS (${createdEvents(
      sql`inserted`,
      { type: "schedule", id: sql`schedule_id` },
      sql`jsonb_build_object('schedule_id', schedule_id, 'scheduled_for', scheduled_for)`,
    )}), advanced AS (
      UPDATE schedules s SET next_fire_at = p.next_fire_at, last_scheduled_for = p.last_scheduled_for,
        buffered_for = p.buffered_for, missed_fires = s.missed_fires + p.missed,
        last_task_id = coalesce(
          (SELECT i.id FROM inserted i WHERE i.schedule_id = s.id ORDER BY i.scheduled_for DESC LIMIT 1),
          s.last_task_id),
        revision = s.revision + 1, updated_at = now()
      FROM plan p WHERE p.schedule_id = s.id AND s.id IN (SELECT id FROM locked)
      RETURNING s.id
    )
    SELECT coalesce((SELECT array_agg(id) FROM advanced), '{}') AS schedule_ids,
           coalesce((SELECT jsonb_agg(jsonb_build_object('id', id, 'schedule_id', schedule_id)) FROM inserted),
                    '[]') AS spawned`);
  return result.rows[0] as FiringResult;
}
