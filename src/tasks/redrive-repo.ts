import { type SQL, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { type TaskRecord, taskColumns } from "./record.ts";

/** Copies a failed or quarantined task into a new submitted one, with its `created` event. */
export async function insertRedrive(
  db: Executor,
  r: {
    id: string;
    accountId: string;
    sourceId: string;
    allowed: SQL;
    creator: { creator_user_id: string | null; creator_service_account_id: string | null };
    actor: { type: string; id: string };
  },
) {
  const result = await db.execute<TaskRecord>(sql`
    WITH inserted AS (
      INSERT INTO tasks (id, account_id, agent_id, type, input, metadata, priority, max_attempts, redriven_from,
                         creator_user_id, creator_service_account_id)
      SELECT ${r.id}, account_id, agent_id, type, input, metadata, priority, max_attempts, id,
             ${r.creator.creator_user_id}, ${r.creator.creator_service_account_id}
      FROM tasks
      WHERE id = ${r.sourceId} AND account_id = ${r.accountId} AND state IN ('failed', 'quarantined') AND ${r.allowed}
      RETURNING ${taskColumns}
    ), event AS (
      INSERT INTO task_events (account_id, task_id, type, to_state, actor_type, actor_id, data)
      SELECT account_id, id, 'created', state, ${r.actor.type}, ${r.actor.id}, jsonb_build_object('redriven_from', redriven_from)
      FROM inserted
    )
    SELECT * FROM inserted`);
  return result.rows[0];
}
