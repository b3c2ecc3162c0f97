import { type SQL, sql } from "drizzle-orm";
import { type CallerDb, runAsCaller } from "../auth/caller.ts";
import { type ListScope, listStatement } from "../authz/sql-lookup.ts";
import type { Executor } from "../db/client.ts";
import { stateIn } from "../lifecycle/lifecycle-sql.ts";
import { leasableStates, type TaskState } from "../lifecycle/task-lifecycle.ts";
import { decodeTask, type TaskRecord, taskColumns } from "./record.ts";

export type TaskLookup = { id: string } | { name: string };

const lookup = (by: TaskLookup) => ("id" in by ? sql`id = ${by.id}` : sql`name = ${by.name}`);

export async function findTask(as: CallerDb, by: TaskLookup, visible: SQL) {
  const {
    rows: [row],
  } = await runAsCaller<TaskRecord>(as, {
    ctes: [],
    select: sql`${taskColumns} FROM tasks WHERE ${lookup(by)} AND account_id = ${as.caller.accountId} AND ${visible}`,
  });
  return row && decodeTask(row);
}

export interface TaskFilters {
  agentId?: string | undefined;
  states?: TaskState[] | undefined;
  type?: string | undefined;
  createdBy?: { type: "user" | "service_account"; id: string } | undefined;
  stale?: boolean | undefined;
}

function filterClauses(filters: TaskFilters): SQL[] {
  const clauses: SQL[] = [];
  if (filters.agentId) clauses.push(sql`agent_id = ${filters.agentId}`);
  if (filters.states?.length) {
    clauses.push(
      sql`state IN (${sql.join(
        filters.states.map((state) => sql`${state}::task_state`),
        sql`, `,
      )})`,
    );
  }
  if (filters.type) clauses.push(sql`type = ${filters.type}`);
  if (filters.createdBy?.type === "user") clauses.push(sql`creator_user_id = ${filters.createdBy.id}`);
  if (filters.createdBy?.type === "service_account") {
    clauses.push(sql`creator_service_account_id = ${filters.createdBy.id}`);
  }
  if (filters.stale) {
    clauses.push(sql`${stateIn(sql`state`, leasableStates)} AND lease_expires_at <= now()`);
  }
  return clauses;
}

/**
 * A page of the account's tasks the scope lets the caller see, newest first. Driven from the
 * caller's edges when the scope has a lookup (a task's parent_agent edge names its agent_id, so
 * an agent filter pins that arrow); else a scan of the account with the predicate on each row.
 */
export async function listTasks(
  db: Executor,
  accountId: string,
  filters: TaskFilters,
  scope: ListScope,
  limit: number,
  before?: string,
) {
  const where = [sql`account_id = ${accountId}`, ...filterClauses(filters)];
  const statement = listStatement(scope, {
    forward: (visible) => {
      const states = filters.states ?? [];
      const scan = (clauses: SQL[]) => sql`
        SELECT ${taskColumns} FROM tasks
        WHERE ${sql.join([...clauses, visible, ...(before ? [sql`id < ${before}`] : [])], sql` AND `)}
        ORDER BY id DESC LIMIT ${limit + 1}`;
      if (states.length < 2) return scan(where);
      // One ordered read of the state index per state, merged: an IN list would read every task
      // in those states before sorting.
      const others = [sql`account_id = ${accountId}`, ...filterClauses({ ...filters, states: undefined })];
      const arms = states.map((state) => sql`(${scan([...others, sql`state = ${state}::task_state`])})`);
      const merged = sql.join(arms, sql` UNION ALL `);
      return sql`SELECT * FROM (${merged}) listed ORDER BY id DESC LIMIT ${limit + 1}`;
    },
    driven: {
      row: (id) =>
        sql`SELECT ${taskColumns} FROM tasks WHERE tasks.id = ${id} AND ${sql.join(where, sql` AND `)}`,
      before,
      take: limit + 1,
      pins: { parent_agent: filters.agentId },
    },
  });
  const result = await db.execute<TaskRecord>(statement);
  return result.rows.map(decodeTask);
}

/** Deletes the task (its events go by cascade) when `allowed` holds; returns its id. */
export async function deleteTask(db: Executor, accountId: string, by: TaskLookup, allowed: SQL) {
  const result = await db.execute<{ id: string }>(
    sql`DELETE FROM tasks WHERE ${lookup(by)} AND account_id = ${accountId} AND ${allowed} RETURNING id`,
  );
  return result.rows[0]?.id;
}

export type TaskProbe = TaskRecord & {
  readable: boolean;
  permitted: boolean;
  same_payload: boolean | null;
  /** Decided by the database clock: a lease whose expiry equals now is expired. */
  lease_live: boolean;
};

/** The follow-up read after a zero-row statement: the row, what the caller may do, and payload equality. */
export async function probeTask(
  db: Executor,
  accountId: string,
  by: TaskLookup,
  readable: SQL,
  permitted: SQL,
  samePayload: SQL = sql`NULL`,
) {
  const result = await db.execute<TaskProbe>(sql`
    SELECT ${taskColumns}, ${readable} AS readable, ${permitted} AS permitted, ${samePayload} AS same_payload,
           coalesce(lease_expires_at > now(), false) AS lease_live
    FROM tasks WHERE ${lookup(by)} AND account_id = ${accountId}`);
  return result.rows[0] && decodeTask(result.rows[0]);
}
