import { type SQL, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
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
    ), events AS (${createdEvents(sql`inserted`, batch.actor)})
    SELECT inserted.* FROM inserted JOIN source ON source.id = inserted.id ORDER BY source.ord`);
  return result.rows.map(decodeTask);
}
