import { type SQL, sql } from "drizzle-orm";
import { type CallerDb, runAsCaller } from "../auth/caller.ts";
import { nextStateSql } from "../lifecycle/lifecycle-sql.ts";
import { decodeTask, type TaskRecord, taskColumns } from "../tasks/record.ts";
import { fencedParts } from "./fenced-statement.ts";

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
  as: CallerDb,
  batch: { items: LeasedCompletion[]; allowed: SQL },
): Promise<TaskRecord[]> {
  const items = JSON.stringify(
    batch.items.map((item) => ({
      id: item.id,
      worker_id: item.workerId,
      epoch: item.epoch,
      result: item.result ?? null,
    })),
  );
  const { rows } = await runAsCaller<TaskRecord>(
    as,
    fencedParts({
      verb: "complete",
      accountId: as.caller.accountId,
      target: {
        source: sql`SELECT * FROM jsonb_to_recordset(${items}::jsonb) AS r(id text, worker_id text, epoch bigint, result jsonb)`,
        columns: sql`source.result`,
      },
      lease: { owner: sql`source.worker_id`, epoch: sql`source.epoch` },
      allowed: batch.allowed,
      update: {
        set: sql`state = ${nextStateSql("complete", sql`t.state`)}, result = target.result, finished_at = now(),
                 lease_expires_at = NULL`,
      },
      event: { actor: as.caller.actor },
      select: sql`${taskColumns} FROM updated`,
    }),
  );
  return rows.map(decodeTask);
}
