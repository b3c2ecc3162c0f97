import { type SQL, sql } from "drizzle-orm";
import { type CallerDb, runAsCaller } from "../auth/caller.ts";
import { creatorColumnsSql } from "../lib/creator.ts";
import { createdEvents } from "./event-insert.ts";
import { decodeTask, type TaskRecord, taskColumns } from "./record.ts";

export interface BatchRow {
  id: string;
  type: string;
  name: string | null;
  input: unknown;
  metadata: Record<string, unknown>;
  priority: number;
  max_attempts: number;
}

export interface TaskBatch {
  agentId: string;
  rows: BatchRow[];
  /** The INSERT of the new rows' edges over `inserted`, when the statement registers them itself. */
  edges?: ((from: SQL) => SQL) | undefined;
}

/** The tasks created, in request order, and whether the agent let the caller create them. */
export type InsertedBatch = { tasks: TaskRecord[]; agentUsable: boolean };

/**
 * Inserts many tasks under one agent, with their `created` events (and their edges, if given), in
 * one statement run as the caller, only when `allowedOnAgent` holds. Rows come back in request order.
 */
export async function insertTaskBatch(
  as: CallerDb,
  batch: TaskBatch,
  allowedOnAgent: SQL,
): Promise<InsertedBatch> {
  const { accountId, actor } = as.caller;
  const creator = creatorColumnsSql(actor);
  const rows = JSON.stringify(batch.rows.map((row, ord) => ({ ...row, ord })));
  const { rows: tasks, probe } = await runAsCaller<TaskRecord & { ord: number }, { usable: boolean }>(as, {
    ctes: [
      sql`agent AS (
        SELECT id FROM agents WHERE id = ${batch.agentId} AND account_id = ${accountId} AND ${allowedOnAgent})`,
      sql`source AS (
        SELECT * FROM jsonb_to_recordset(${rows}::jsonb)
          AS r(id text, type text, name text, input jsonb, metadata jsonb, priority int, max_attempts int, ord int))`,
      sql`inserted AS (
        INSERT INTO tasks (id, account_id, agent_id, type, name, input, metadata, priority, max_attempts,
                           creator_user_id, creator_service_account_id)
        SELECT r.id, ${accountId}, agent.id, r.type, r.name, r.input, r.metadata, r.priority, r.max_attempts,
               ${creator.creator_user_id}, ${creator.creator_service_account_id}
        FROM source r CROSS JOIN agent
        RETURNING ${taskColumns})`,
      sql`events AS (${createdEvents(sql`inserted`, actor)})`,
      ...(batch.edges ? [sql`edges AS (${batch.edges(sql`inserted`)})`] : []),
    ],
    select: sql`inserted.*, source.ord AS ord FROM inserted JOIN source ON source.id = inserted.id`,
    order: sql`ord`,
    probe: sql`SELECT EXISTS (SELECT FROM agent) AS usable`,
  });
  return {
    tasks: tasks.map(({ ord: _ord, ...task }) => decodeTask(task)),
    agentUsable: tasks.length > 0 || probe?.usable === true,
  };
}
