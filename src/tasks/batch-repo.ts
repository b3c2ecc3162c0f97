import { type SQL, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { type TaskRecord, taskColumns } from "./record.ts";
import { transitions } from "./states.ts";

export interface BatchRow {
  id: string;
  type: string;
  name: string | null;
  input: unknown;
  metadata: Record<string, unknown>;
  priority: number;
  max_attempts: number;
}

/**
 * Inserts many tasks under one agent, with their `created` events, in one statement, only when
 * `allowedOnAgent` holds. Rows come back in request order.
 */
export async function insertTaskBatch(
  db: Executor,
  batch: {
    accountId: string;
    agentId: string;
    rows: BatchRow[];
    creator: { creator_user_id: string | null; creator_service_account_id: string | null };
    actor: { type: string; id: string };
  },
  allowedOnAgent: SQL,
): Promise<TaskRecord[]> {
  const rows = JSON.stringify(batch.rows.map((row, ord) => ({ ...row, ord })));
  const result = await db.execute<TaskRecord>(sql`
    WITH agent AS (
      SELECT id FROM agents WHERE id = ${batch.agentId} AND account_id = ${batch.accountId} AND ${allowedOnAgent}
    ), source AS (
      SELECT * FROM jsonb_to_recordset(${rows}::jsonb)
        AS r(id text, type text, name text, input jsonb, metadata jsonb, priority int, max_attempts int, ord int)
    ), inserted AS (
      INSERT INTO tasks (id, account_id, agent_id, type, name, input, metadata, priority, max_attempts,
                         creator_user_id, creator_service_account_id)
      SELECT r.id, ${batch.accountId}, agent.id, r.type, r.name, r.input, r.metadata, r.priority, r.max_attempts,
             ${batch.creator.creator_user_id}, ${batch.creator.creator_service_account_id}
      FROM source r CROSS JOIN agent
      RETURNING ${taskColumns}
    ), events AS (
      INSERT INTO task_events (account_id, task_id, type, to_state, actor_type, actor_id)
      SELECT account_id, id, 'created', state, ${batch.actor.type}, ${batch.actor.id} FROM inserted
    )
    SELECT inserted.* FROM inserted JOIN source ON source.id = inserted.id ORDER BY source.ord`);
  return result.rows;
}

export interface LeasedCompletion {
  id: string;
  workerId: string;
  epoch: number;
  result: unknown;
}

/**
 * Completes every listed task whose lease the caller still holds (owner, epoch, unexpired) and
 * which `allowed` lets it update, with a `completed` event each, in one statement. Tasks that do
 * not qualify are left alone and missing from the answer.
 */
export async function completeLeasedTasks(
  db: Executor,
  batch: { accountId: string; items: LeasedCompletion[]; allowed: SQL; actor: { type: string; id: string } },
): Promise<TaskRecord[]> {
  const items = JSON.stringify(
    batch.items.map((item) => ({
      id: item.id,
      worker_id: item.workerId,
      epoch: item.epoch,
      result: item.result ?? null,
    })),
  );
  const completable = sql.join(
    transitions.complete.from.map((state) => sql`${state}::task_state`),
    sql`, `,
  );
  const result = await db.execute<TaskRecord>(sql`
    WITH source AS (
      SELECT * FROM jsonb_to_recordset(${items}::jsonb) AS r(id text, worker_id text, epoch bigint, result jsonb)
    ), target AS (
      SELECT tasks.id, tasks.state, source.result FROM tasks JOIN source ON source.id = tasks.id
      WHERE tasks.account_id = ${batch.accountId} AND tasks.state IN (${completable})
        AND tasks.lease_owner = source.worker_id AND tasks.lease_epoch = source.epoch
        AND tasks.lease_expires_at > now() AND ${batch.allowed}
      ORDER BY tasks.id FOR UPDATE OF tasks
    ), updated AS (
      UPDATE tasks AS t SET state = 'completed', result = target.result, finished_at = now(),
        lease_expires_at = NULL, updated_at = now()
      FROM target WHERE t.id = target.id
      RETURNING t.*, target.state AS previous_state
    ), events AS (
      INSERT INTO task_events (account_id, task_id, type, from_state, to_state, actor_type, actor_id, lease_epoch)
      SELECT account_id, id, 'completed', previous_state, state, ${batch.actor.type}, ${batch.actor.id}, lease_epoch
      FROM updated
    )
    SELECT ${taskColumns} FROM updated`);
  return result.rows;
}
