// Lease statements. Each is one SQL statement; the database clock decides expiry, and a lease
// whose expiry equals now() is expired.
import { type SQL, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { type TaskRecord, taskColumns } from "../tasks/record.ts";

export type GrantedTask = TaskRecord & { compensations: CompensationStep[] | null };
export type CompensationStep = { seq: number; kind: string; target: string; payload: unknown };

export interface LeaseGrant {
  workerId: string;
  leaseSeconds: number;
  actor: { type: string; id: string };
}

/** A lease TTL in whole seconds as an SQL interval, added to the database clock. */
export const ttl = (seconds: number) => sql`make_interval(secs => ${seconds}::int)`;

// Granting a lease: a new epoch (the fencing token), a new expiry, one more attempt of the
// kind of work it is (normal or compensation).
const grantSet = (grant: LeaseGrant) => sql`
  state = CASE WHEN t.state = 'compensating' THEN 'compensating'::task_state ELSE 'working'::task_state END,
  lease_owner = ${grant.workerId}, lease_epoch = t.lease_epoch + 1,
  lease_expires_at = now() + ${ttl(grant.leaseSeconds)}, last_heartbeat_at = now(),
  attempts = t.attempts + CASE WHEN t.state = 'compensating' THEN 0 ELSE 1 END,
  compensation_attempts = t.compensation_attempts + CASE WHEN t.state = 'compensating' THEN 1 ELSE 0 END,
  updated_at = now()`;

// The steps left to undo, newest first, returned with compensation work.
const pendingSteps = sql`(SELECT jsonb_agg(jsonb_build_object('seq', c.seq, 'kind', c.kind, 'target', c.target,
    'payload', c.payload) ORDER BY c.seq DESC) FROM task_compensations c
  WHERE c.task_id = granted.id AND c.status = 'pending')`;

function grantAndRecord(chosen: SQL, grant: LeaseGrant, order: SQL) {
  return sql`
    ${chosen}, granted AS (
      UPDATE tasks AS t SET ${grantSet(grant)} FROM chosen WHERE t.id = chosen.id
      RETURNING t.*, chosen.state AS previous_state
    ), events AS (
      INSERT INTO task_events (account_id, task_id, type, from_state, to_state, actor_type, actor_id, lease_epoch, data)
      SELECT account_id, id, 'lease_granted', previous_state, state, ${grant.actor.type}, ${grant.actor.id}, lease_epoch,
             jsonb_build_object('worker_id', lease_owner, 'expires_at', lease_expires_at)
      FROM granted
    )
    SELECT ${taskColumns}, CASE WHEN state = 'compensating' THEN ${pendingSteps} END AS compensations
    FROM granted ORDER BY ${order}`;
}

export interface ClaimRequest extends LeaseGrant {
  accountId: string;
  agentId: string;
  maxTasks: number;
  types: string[] | undefined;
  work: boolean;
  compensation: boolean;
  /** The caller's execute permission on the agent, over `agents.id`. */
  allowedOnAgent: SQL;
}

/**
 * Grants up to maxTasks claimable tasks of one agent: fresh work by priority then age, expired
 * leases with attempts left, and (if asked) compensation work. Rows another claimer holds are
 * skipped, never waited for.
 */
export async function claimTasks(db: Executor, r: ClaimRequest): Promise<GrantedTask[]> {
  const types = r.types?.length
    ? sql`AND t.type IN (${sql.join(
        r.types.map((type) => sql`${type}`),
        sql`, `,
      )})`
    : sql``;
  const scope = sql`t.agent_id = ${r.agentId} AND t.account_id = ${r.accountId}
    AND EXISTS (SELECT 1 FROM agents WHERE agents.id = ${r.agentId} AND agents.account_id = ${r.accountId} AND ${r.allowedOnAgent})`;
  const chosen = sql`
    WITH fresh AS (
      SELECT t.id, t.state, t.priority FROM tasks t
      WHERE ${r.work} AND ${scope} AND t.state = 'submitted' ${types}
      ORDER BY t.priority DESC NULLS LAST, t.id LIMIT ${r.maxTasks} FOR UPDATE SKIP LOCKED
    ), expired AS (
      SELECT t.id, t.state, t.priority FROM tasks t
      WHERE ${scope} AND t.state IN ('working', 'compensating') AND t.lease_expires_at <= now() ${types}
        AND ((${r.work} AND t.state = 'working' AND t.attempts < t.max_attempts)
          OR (${r.compensation} AND t.state = 'compensating' AND t.compensation_attempts < t.max_attempts))
      ORDER BY t.lease_expires_at LIMIT ${r.maxTasks} FOR UPDATE SKIP LOCKED
    ), compensation AS (
      SELECT t.id, t.state, t.priority FROM tasks t
      WHERE ${r.compensation} AND ${scope} AND t.state = 'compensating' AND t.lease_owner IS NULL
        AND t.compensation_attempts < t.max_attempts ${types}
      ORDER BY t.priority DESC NULLS LAST, t.id LIMIT ${r.maxTasks} FOR UPDATE SKIP LOCKED
    ), chosen AS (
      SELECT id, state FROM (
        SELECT * FROM fresh UNION ALL SELECT * FROM expired UNION ALL SELECT * FROM compensation
      ) candidates ORDER BY priority DESC, id LIMIT ${r.maxTasks}
    )`;
  const result = await db.execute<GrantedTask>(grantAndRecord(chosen, r, sql`priority DESC, id`));
  return result.rows;
}

/** Grants the lease on one task if nobody holds a live one and attempts remain. */
export async function acquireTask(
  db: Executor,
  accountId: string,
  id: string,
  allowed: SQL,
  grant: LeaseGrant,
): Promise<GrantedTask | undefined> {
  const chosen = sql`
    WITH chosen AS (
      SELECT id, state FROM tasks
      WHERE id = ${id} AND account_id = ${accountId} AND ${allowed}
        AND (state = 'submitted'
          OR (state = 'working' AND (lease_owner IS NULL OR lease_expires_at <= now()) AND attempts < max_attempts)
          OR (state = 'compensating' AND (lease_owner IS NULL OR lease_expires_at <= now())
              AND compensation_attempts < max_attempts))
      FOR UPDATE
    )`;
  const result = await db.execute<GrantedTask>(grantAndRecord(chosen, grant, sql`id`));
  return result.rows[0];
}
