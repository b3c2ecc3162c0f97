import { type SQL, sql } from "drizzle-orm";
import type { AccessProbe } from "../authz/probe.ts";
import { type ListScope, listStatement } from "../authz/sql-lookup.ts";
import type { Executor } from "../db/client.ts";
import { columnList, type RowOf } from "../db/rows.ts";
import { agents } from "../db/schema/agents.ts";
import { nonTerminalStates } from "../lifecycle/task-lifecycle.ts";

/** An agents row as SQL returns it, typed from the drizzle table. */
export type AgentRecord = RowOf<typeof agents>;

const columns = columnList(agents);

export interface NewAgent {
  id: string;
  accountId: string;
  name: string;
  description: string | null;
  metadata: Record<string, unknown>;
  creator_user_id: string | null;
  creator_service_account_id: string | null;
}

/** Inserts only when `allowed` holds (the caller may create agents in the account). */
export async function insertAgentIfAllowed(
  db: Executor,
  agent: NewAgent,
  allowed: SQL,
): Promise<AgentRecord | undefined> {
  const result = await db.execute<AgentRecord>(sql`
    INSERT INTO agents (id, account_id, name, description, metadata, creator_user_id, creator_service_account_id)
    SELECT ${agent.id}, ${agent.accountId}, ${agent.name}, ${agent.description}, ${JSON.stringify(agent.metadata)}::jsonb,
           ${agent.creator_user_id}, ${agent.creator_service_account_id}
    WHERE ${allowed}
    RETURNING ${columns}`);
  return result.rows[0];
}

export async function findAgent(db: Executor, accountId: string, id: string, visible: SQL) {
  const result = await db.execute<AgentRecord>(
    sql`SELECT ${columns} FROM agents WHERE id = ${id} AND account_id = ${accountId} AND ${visible}`,
  );
  return result.rows[0];
}

/** A page of the account's agents the scope lets the caller see, newest first. */
export async function listAgents(
  db: Executor,
  accountId: string,
  scope: ListScope,
  limit: number,
  before?: string,
) {
  const statement = listStatement(scope, {
    forward: (visible) => sql`
      SELECT ${columns} FROM agents
      WHERE account_id = ${accountId} AND ${before ? sql`id < ${before}` : sql`TRUE`} AND ${visible}
      ORDER BY id DESC LIMIT ${limit + 1}`,
    driven: {
      row: (id) => sql`SELECT ${columns} FROM agents WHERE agents.id = ${id} AND account_id = ${accountId}`,
      before,
      take: limit + 1,
    },
  });
  const result = await db.execute<AgentRecord>(statement);
  return result.rows;
}

/** The follow-up read after a zero-row statement: is the agent there, readable, permitted? */
export async function probeAgent(
  db: Executor,
  accountId: string,
  id: string,
  readable: SQL,
  permitted: SQL,
): Promise<AccessProbe | undefined> {
  const result = await db.execute<AccessProbe>(
    sql`SELECT ${readable} AS readable, ${permitted} AS permitted FROM agents WHERE id = ${id} AND account_id = ${accountId}`,
  );
  return result.rows[0];
}

export type AgentDeletion = {
  found: boolean;
  busy: boolean;
  task_ids: string[];
  /** Agent keys revoked with the agent. */
  key_ids: string[];
  schedule_ids: string[];
};

/**
 * Deletes the agent with its (all terminal) tasks and its schedules, and revokes its keys, in one statement, or nothing when a task is
 * still live. The agent row is locked first, so a concurrent task create waits and then fails
 * its foreign key rather than slipping in.
 */
export async function deleteAgentUnlessBusy(db: Executor, accountId: string, id: string, allowed: SQL) {
  const live = sql.join(
    nonTerminalStates.map((state) => sql`${state}::task_state`),
    sql`, `,
  );
  const result = await db.execute<AgentDeletion>(sql`
    WITH target AS (
      SELECT id FROM agents WHERE id = ${id} AND account_id = ${accountId} AND ${allowed} FOR UPDATE
    ), busy AS (
      SELECT EXISTS (SELECT 1 FROM tasks WHERE agent_id IN (SELECT id FROM target) AND state IN (${live})) AS busy
    ), removed_tasks AS (
      DELETE FROM tasks WHERE account_id = ${accountId} AND agent_id IN (SELECT id FROM target)
        AND NOT (SELECT busy FROM busy) RETURNING id
    ), removed_schedules AS (
      DELETE FROM schedules WHERE account_id = ${accountId} AND agent_id IN (SELECT id FROM target)
        AND NOT (SELECT busy FROM busy) RETURNING id
    ), removed_agent AS (
      DELETE FROM agents WHERE id IN (SELECT id FROM target) AND NOT (SELECT busy FROM busy) RETURNING id
    ), revoked_keys AS (
      UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
      WHERE account_id = ${accountId} AND agent_id IN (SELECT id FROM target) AND NOT (SELECT busy FROM busy)
      RETURNING id
    )
    SELECT EXISTS (SELECT 1 FROM target) AS found, (SELECT busy FROM busy) AS busy,
           coalesce((SELECT array_agg(id) FROM removed_tasks), '{}') AS task_ids,
           coalesce((SELECT array_agg(id) FROM revoked_keys), '{}') AS key_ids,
           coalesce((SELECT array_agg(id) FROM removed_schedules), '{}') AS schedule_ids,
           EXISTS (SELECT 1 FROM removed_agent) AS deleted`);
  return result.rows[0] as AgentDeletion;
}
