import { type SQL, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { eventInsert } from "./event-insert.ts";
import { decodeTaskEvent, type TaskEventRecord } from "./record.ts";

/** Appends a note to the audit trail of any task, terminal ones included, when `allowed` holds. Share-locks the row, like recordStaleLease. */
export async function insertAuditNote(
  db: Executor,
  accountId: string,
  id: string,
  allowed: SQL,
  actor: { type: string; id: string },
  note: string,
) {
  const result = await db.execute<TaskEventRecord>(sql`
    WITH task AS (
      SELECT account_id, id, state, lease_epoch FROM tasks
      WHERE id = ${id} AND account_id = ${accountId} AND ${allowed} FOR SHARE
    )
    ${eventInsert({
      from: sql`task`,
      type: { note: "audit_note" },
      actor,
      fromState: sql`state`,
      data: sql`jsonb_build_object('note', ${note}::text)`,
    })}
    RETURNING id, task_id, type, from_state, to_state, actor_type, actor_id, lease_epoch, data, created_at`);
  return result.rows[0] && decodeTaskEvent(result.rows[0]);
}

/** A page of a task's events, oldest first, only if the task is visible. */
export async function listTaskEvents(
  db: Executor,
  accountId: string,
  id: string,
  visible: SQL,
  afterEventId: number,
  limit: number,
) {
  const result = await db.execute<TaskEventRecord>(sql`
    SELECT e.id, e.task_id, e.type, e.from_state, e.to_state, e.actor_type, e.actor_id, e.lease_epoch, e.data,
           e.created_at
    FROM task_events e JOIN tasks ON tasks.id = e.task_id
    WHERE tasks.id = ${id} AND tasks.account_id = ${accountId} AND ${visible} AND e.id > ${afterEventId}
    ORDER BY e.id LIMIT ${limit + 1}`);
  return result.rows.map(decodeTaskEvent);
}
