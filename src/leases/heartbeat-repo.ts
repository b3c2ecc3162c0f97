import { type SQL, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { ttl } from "./repo.ts";

export type HeartbeatRow = { expires_at: Date; epoch: string | number };

// Heartbeats closer together than TTL/6 are refused (429): the lease is safe for far longer.
const minGap = (seconds: number) => sql`make_interval(secs => ${seconds / 6}::double precision)`;

export interface HeartbeatRequest {
  accountId: string;
  id: string;
  workerId: string;
  epoch: number;
  leaseSeconds: number;
  progress: unknown;
  allowed: SQL;
  actor: { type: string; id: string };
}

/** Extends the caller's live lease to a later expiry; records an event only when progress is sent. */
export async function extendLease(db: Executor, r: HeartbeatRequest): Promise<HeartbeatRow | undefined> {
  const progress = r.progress === undefined ? null : JSON.stringify(r.progress);
  const result = await db.execute<HeartbeatRow>(sql`
    WITH target AS (
      SELECT id FROM tasks
      WHERE id = ${r.id} AND account_id = ${r.accountId} AND ${r.allowed}
        AND state IN ('working', 'compensating')
        AND lease_owner = ${r.workerId} AND lease_epoch = ${r.epoch} AND lease_expires_at > now()
        AND now() + ${ttl(r.leaseSeconds)} > lease_expires_at
        AND last_heartbeat_at <= now() - ${minGap(r.leaseSeconds)}
      FOR UPDATE
    ), updated AS (
      UPDATE tasks AS t SET lease_expires_at = now() + ${ttl(r.leaseSeconds)}, last_heartbeat_at = now(),
        progress = coalesce(${progress}::jsonb, t.progress), updated_at = now()
      FROM target WHERE t.id = target.id
      RETURNING t.id, t.account_id, t.state, t.lease_epoch, t.lease_expires_at
    ), event AS (
      INSERT INTO task_events (account_id, task_id, type, from_state, to_state, actor_type, actor_id, lease_epoch, data)
      SELECT account_id, id, 'progress', state, state, ${r.actor.type}, ${r.actor.id}, lease_epoch,
             jsonb_build_object('progress', ${progress}::jsonb)
      FROM updated WHERE ${progress}::jsonb IS NOT NULL
    )
    SELECT lease_expires_at AS expires_at, lease_epoch AS epoch FROM updated`);
  return result.rows[0];
}

export type HeartbeatProbe = {
  state: string;
  lease_owner: string | null;
  lease_epoch: string | number;
  lease_expires_at: Date | null;
  lease_live: boolean;
  extends: boolean;
  wait_seconds: number;
};

/** Why a heartbeat changed nothing, judged by the database clock. */
export async function probeHeartbeat(db: Executor, accountId: string, id: string, leaseSeconds: number) {
  const result = await db.execute<HeartbeatProbe>(sql`
    SELECT state, lease_owner, lease_epoch, lease_expires_at,
           coalesce(lease_expires_at > now(), false) AS lease_live,
           coalesce(now() + ${ttl(leaseSeconds)} > lease_expires_at, true) AS extends,
           greatest(0, extract(epoch FROM (last_heartbeat_at + ${minGap(leaseSeconds)}) - now()))::float8 AS wait_seconds
    FROM tasks WHERE id = ${id} AND account_id = ${accountId}`);
  return result.rows[0];
}
