import { type SQL, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { stateIn } from "../lifecycle/lifecycle-sql.ts";
import { fromStates } from "../lifecycle/task-lifecycle.ts";
import { createdEvents } from "./event-insert.ts";
import { decodeTask, type TaskRecord, taskColumns } from "./record.ts";

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
      WHERE id = ${r.sourceId} AND account_id = ${r.accountId} AND ${stateIn(sql`state`, fromStates("redrive"))} AND ${r.allowed}
      RETURNING ${taskColumns}
    ), event AS (${createdEvents(sql`inserted`, r.actor, sql`jsonb_build_object('redriven_from', redriven_from)`)})
    SELECT * FROM inserted`);
  return result.rows[0] && decodeTask(result.rows[0]);
}
