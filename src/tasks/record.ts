import { sql } from "drizzle-orm";
import { createdByView } from "../lib/creator.ts";
import { a2aStates, type TaskState } from "./states.ts";

/** A tasks row as raw SQL returns it. */
export type TaskRecord = {
  id: string;
  account_id: string;
  agent_id: string;
  type: string;
  name: string | null;
  state: TaskState;
  priority: number;
  input: unknown;
  metadata: Record<string, unknown>;
  progress: unknown;
  input_request: unknown;
  input_response: unknown;
  result: unknown;
  error: unknown;
  cancel_reason: string | null;
  max_attempts: number;
  attempts: number;
  compensation_attempts: number;
  redriven_from: string | null;
  schedule_id: string | null;
  scheduled_for: Date | null;
  lease_owner: string | null;
  lease_epoch: string | number;
  lease_expires_at: Date | null;
  last_heartbeat_at: Date | null;
  creator_user_id: string | null;
  creator_service_account_id: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
};

export const taskColumns = sql.raw(
  [
    "id",
    "account_id",
    "agent_id",
    "type",
    "name",
    "state",
    "priority",
    "input",
    "metadata",
    "progress",
    "input_request",
    "input_response",
    "result",
    "error",
    "cancel_reason",
    "max_attempts",
    "attempts",
    "compensation_attempts",
    "redriven_from",
    "schedule_id",
    "scheduled_for",
    "lease_owner",
    "lease_epoch",
    "lease_expires_at",
    "last_heartbeat_at",
    "creator_user_id",
    "creator_service_account_id",
    "created_at",
    "updated_at",
    "finished_at",
  ].join(", "),
);

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

export function toTaskView(row: TaskRecord) {
  return {
    id: row.id,
    agent_id: row.agent_id,
    type: row.type,
    name: row.name,
    state: row.state,
    a2a_state: a2aStates[row.state],
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
            epoch: Number(row.lease_epoch),
            expires_at: iso(row.lease_expires_at),
          },
    created_by: createdByView(row),
    created_at: iso(row.created_at) as string,
    updated_at: iso(row.updated_at) as string,
    finished_at: iso(row.finished_at),
  };
}
export type TaskView = ReturnType<typeof toTaskView>;

export type TaskEventRecord = {
  id: string | number;
  task_id: string;
  type: string;
  from_state: TaskState | null;
  to_state: TaskState | null;
  actor_type: string;
  actor_id: string;
  lease_epoch: string | number | null;
  data: unknown;
  created_at: Date;
};

export function toTaskEventView(row: TaskEventRecord) {
  return {
    id: Number(row.id),
    task_id: row.task_id,
    type: row.type,
    from_state: row.from_state,
    to_state: row.to_state,
    actor: { type: row.actor_type, id: row.actor_id },
    lease_epoch: row.lease_epoch === null ? null : Number(row.lease_epoch),
    data: row.data ?? null,
    created_at: iso(row.created_at) as string,
  };
}
