// Lease statements. Each is one SQL statement; the database clock decides expiry, and a lease
// whose expiry equals now() is expired.
import { type SQL, sql } from "drizzle-orm";
import { type CallerDb, type CallerStatement, runAsCaller } from "../auth/caller.ts";
import { nextStateSql, stateIn, stateSql, stepStatusSql } from "../lifecycle/lifecycle-sql.ts";
import { leasableStates, taskState } from "../lifecycle/task-lifecycle.ts";
import { eventInsert } from "../tasks/event-insert.ts";
import { decodeTask, type TaskRecord, taskColumns } from "../tasks/record.ts";

export type GrantedTask = TaskRecord & { compensations: CompensationStep[] | null };
export type CompensationStep = { seq: number; kind: string; target: string; payload: unknown };

export interface LeaseGrant {
  workerId: string;
  leaseSeconds: number;
}

/** A lease TTL in whole seconds as an SQL interval, added to the database clock. */
export const ttl = (seconds: number) => sql`make_interval(secs => ${seconds}::int)`;

// Granting a lease: a new epoch (the fencing token), a new expiry, one more attempt of the
// kind of work it is (normal or compensation).
const compensating = stateSql[taskState.compensating];
const submitted = stateSql[taskState.submitted];
const working = stateSql[taskState.working];
const grantSet = (grant: LeaseGrant) => sql`
  state = ${nextStateSql("claim", sql`t.state`, {
    attempts_left: sql`t.attempts < t.max_attempts`,
    compensation_attempts_left: sql`t.compensation_attempts < t.max_attempts`,
  })},
  lease_owner = ${grant.workerId}, lease_epoch = t.lease_epoch + 1,
  lease_expires_at = now() + ${ttl(grant.leaseSeconds)}, last_heartbeat_at = now(),
  attempts = t.attempts + CASE WHEN t.state = ${compensating} THEN 0 ELSE 1 END,
  compensation_attempts = t.compensation_attempts + CASE WHEN t.state = ${compensating} THEN 1 ELSE 0 END,
  updated_at = now()`;

// The steps left to undo, newest first, returned with compensation work.
const pendingSteps = sql`(SELECT jsonb_agg(jsonb_build_object('seq', c.seq, 'kind', c.kind, 'target', c.target,
    'payload', c.payload) ORDER BY c.seq DESC) FROM task_compensations c
  WHERE c.task_id = granted.id AND c.status = ${stepStatusSql.pending})`;

/** `chosen` (CTEs ending in `chosen (id, state)`) leased to the caller, with a `claim` event each. */
function grantAndRecord(
  as: CallerDb,
  chosen: SQL[],
  grant: LeaseGrant,
  order: SQL,
  withSteps = true,
): CallerStatement {
  const steps = withSteps ? sql`CASE WHEN state = ${compensating} THEN ${pendingSteps} END` : sql`NULL`;
  return {
    ctes: [
      ...chosen,
      sql`granted AS (
        UPDATE tasks AS t SET ${grantSet(grant)} FROM chosen
        WHERE t.id = chosen.id AND t.id = ANY (ARRAY(SELECT id FROM chosen))
        RETURNING t.*, chosen.state AS previous_state)`,
      sql`events AS (${eventInsert({
        from: sql`granted`,
        type: "claim",
        actor: as.caller.actor,
        data: sql`jsonb_build_object('worker_id', lease_owner, 'expires_at', lease_expires_at)`,
      })})`,
    ],
    select: sql`${taskColumns}, ${steps} AS compensations FROM granted`,
    order,
  };
}

/** At most this many tasks per claim (DESIGN §10). */
export const maxClaimBatch = 100;

export interface ClaimRequest extends LeaseGrant {
  agentId: string;
  maxTasks: number;
  types: string[] | undefined;
  work: boolean;
  compensation: boolean;
  /** The caller's execute permission on the agent, over `agents.id`. */
  allowedOnAgent: SQL;
}

/**
 * A claim's tasks and, when none was granted, whether the agent is there for the caller to use:
 * then an empty answer is simply nothing to do. (Only the rare refusal needs a read of its own;
 * its permission predicates in every claim would cost more to plan than the read costs.)
 */
export type ClaimResult = { tasks: GrantedTask[]; agentUsable: boolean };

/**
 * Grants up to maxTasks claimable tasks of one agent: fresh work by priority then age, expired
 * leases with attempts left, and (if asked) compensation work. Rows another claimer holds are
 * skipped, never waited for.
 *
 * The statement holds only the candidate sets the caller asked for, and checks the agent's
 * permission once: PostgreSQL plans a claim on every call (a new connection per request), and
 * each extra copy of the permission predicate multiplied that planning time.
 */
export async function claimTasks(as: CallerDb, r: ClaimRequest): Promise<ClaimResult> {
  const accountId = as.caller.accountId;
  const types = r.types?.length
    ? sql`AND t.type IN (${sql.join(
        r.types.map((type) => sql`${type}`),
        sql`, `,
      )})`
    : sql``;
  // The limit is written into the text (a checked integer, never input text): with it known, the
  // plan PostgreSQL caches for a named statement is as good as a fresh one, so it stops re-planning.
  if (!Number.isInteger(r.maxTasks) || r.maxTasks < 1 || r.maxTasks > maxClaimBatch) {
    throw new RangeError("maxTasks out of range");
  }
  const limit = sql.raw(String(r.maxTasks));
  const scope = sql`t.agent_id = (SELECT id FROM agent) AND t.account_id = ${accountId}`;
  const candidates: [string, SQL][] = [];
  if (r.work) {
    candidates.push([
      "fresh",
      sql`SELECT t.id, t.state, t.priority FROM tasks t
      WHERE ${scope} AND t.state = ${submitted} ${types}
      ORDER BY t.priority DESC NULLS LAST, t.id LIMIT ${limit} FOR UPDATE SKIP LOCKED`,
    ]);
  }
  const expiredStates = [
    ...(r.work ? [sql`(t.state = ${working} AND t.attempts < t.max_attempts)`] : []),
    ...(r.compensation
      ? [sql`(t.state = ${compensating} AND t.compensation_attempts < t.max_attempts)`]
      : []),
  ];
  candidates.push([
    "expired",
    sql`SELECT t.id, t.state, t.priority FROM tasks t
      WHERE ${scope} AND ${stateIn(sql`t.state`, leasableStates)} AND t.lease_expires_at <= now() ${types}
        AND (${sql.join(expiredStates, sql` OR `)})
      ORDER BY t.lease_expires_at LIMIT ${limit} FOR UPDATE SKIP LOCKED`,
  ]);
  if (r.compensation) {
    candidates.push([
      "compensation",
      sql`SELECT t.id, t.state, t.priority FROM tasks t
      WHERE ${scope} AND t.state = ${compensating} AND t.lease_owner IS NULL
        AND t.compensation_attempts < t.max_attempts ${types}
      ORDER BY t.priority DESC NULLS LAST, t.id LIMIT ${limit} FOR UPDATE SKIP LOCKED`,
    ]);
  }
  const chosen = [
    sql`agent AS MATERIALIZED (
      SELECT id FROM agents WHERE id = ${r.agentId} AND account_id = ${accountId} AND ${r.allowedOnAgent})`,
    ...candidates.map(([name, query]) => sql`${sql.raw(name)} AS (${query})`),
    sql`chosen AS (
      SELECT id, state FROM (${sql.join(
        candidates.map(([name]) => sql`SELECT * FROM ${sql.raw(name)}`),
        sql` UNION ALL `,
      )}) candidates
      ORDER BY priority DESC, id LIMIT ${limit})`,
  ];
  const { rows, probe } = await runAsCaller<GrantedTask, { usable: boolean }>(as, {
    ...grantAndRecord(as, chosen, r, sql`priority DESC, id`, r.compensation),
    probe: sql`SELECT EXISTS (SELECT FROM agent) AS usable`,
  });
  return { tasks: rows.map(decodeTask), agentUsable: rows.length > 0 || probe?.usable === true };
}

/** Grants the lease on one task if nobody holds a live one and attempts remain. */
export async function acquireTask(
  as: CallerDb,
  id: string,
  allowed: SQL,
  grant: LeaseGrant,
): Promise<GrantedTask | undefined> {
  const chosen = sql`
    chosen AS (
      SELECT id, state FROM tasks
      WHERE id = ${id} AND account_id = ${as.caller.accountId} AND ${allowed}
        AND (state = ${submitted}
          OR (state = ${working} AND (lease_owner IS NULL OR lease_expires_at <= now()) AND attempts < max_attempts)
          OR (state = ${compensating} AND (lease_owner IS NULL OR lease_expires_at <= now())
              AND compensation_attempts < max_attempts))
      FOR UPDATE
    )`;
  const {
    rows: [row],
  } = await runAsCaller<GrantedTask>(as, grantAndRecord(as, [chosen], grant, sql`id`));
  return row && decodeTask(row);
}
