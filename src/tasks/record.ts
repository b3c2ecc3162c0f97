import { columnList, type RowOf, rowDecoder } from "../db/rows.ts";
import { taskEvents, tasks } from "../db/schema/tasks.ts";
import { createdByView } from "../lib/creator.ts";
import { a2aStateOf } from "../lifecycle/task-lifecycle.ts";

/** A tasks row as SQL returns it, typed from the drizzle table. */
export type TaskRecord = RowOf<typeof tasks>;
export const taskColumns = columnList(tasks);
/** Every statement returning task rows passes them through this (the epoch is a number, once). */
export const decodeTask = rowDecoder(tasks);

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

export function toTaskView(row: TaskRecord) {
  return {
    id: row.id,
    agent_id: row.agent_id,
    type: row.type,
    name: row.name,
    state: row.state,
    a2a_state: a2aStateOf(row.state),
    priority: row.priority,
    input: row.input ?? null,
    metadata: row.metadata,
    progress: row.progress ?? null,
    input_request: row.input_request ?? null,
    input_response: row.input_response ?? null,
    result: row.result ?? null,
    error: row.error ?? null,
    cancel_reason: row.cancel_reason,
    attempts: row.attempts,
    max_attempts: row.max_attempts,
    compensation_attempts: row.compensation_attempts,
    redriven_from: row.redriven_from,
    schedule_id: row.schedule_id,
    scheduled_for: iso(row.scheduled_for),
    lease:
      row.lease_owner === null
        ? null
        : {
            worker_id: row.lease_owner,
            epoch: row.lease_epoch,
            expires_at: iso(row.lease_expires_at),
          },
    created_by: createdByView(row),
    created_at: iso(row.created_at) as string,
    updated_at: iso(row.updated_at) as string,
    finished_at: iso(row.finished_at),
  };
}
export type TaskView = ReturnType<typeof toTaskView>;

export type TaskEventRecord = Omit<RowOf<typeof taskEvents>, "account_id">;
export const decodeTaskEvent = rowDecoder(taskEvents);

export function toTaskEventView(row: TaskEventRecord) {
  return {
    id: row.id,
    task_id: row.task_id,
    type: row.type,
    from_state: row.from_state,
    to_state: row.to_state,
    actor: { type: row.actor_type, id: row.actor_id },
    lease_epoch: row.lease_epoch,
    data: row.data ?? null,
    created_at: iso(row.created_at) as string,
  };
}
