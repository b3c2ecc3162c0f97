import { type SQL, sql } from "drizzle-orm";
import { type CallerDb, runAsCaller } from "../auth/caller.ts";
import type { Executor } from "../db/client.ts";
import type { TaskState } from "../lifecycle/task-lifecycle.ts";
import { decodeTask } from "../tasks/record.ts";
import { fencedParts } from "./fenced-statement.ts";
import { ttl } from "./repo.ts";

export type HeartbeatRow = { expires_at: Date; epoch: number };

// Heartbeats closer together than TTL/6 are refused (429): the lease is safe for far longer.
const minGap = (seconds: number) => sql`make_interval(secs => ${seconds / 6}::double precision)`;

export interface HeartbeatRequest {
  id: string;
  workerId: string;
  epoch: number;
  leaseSeconds: number;
  progress: unknown;
  allowed: SQL;
}

/** Extends the caller's live lease to a later expiry; records an event only when progress is sent. */
export async function extendLease(as: CallerDb, r: HeartbeatRequest): Promise<HeartbeatRow | undefined> {
  const progress = r.progress === undefined ? null : JSON.stringify(r.progress);
  const {
    rows: [row],
  } = await runAsCaller<{ expires_at: Date; epoch: string }>(
    as,
    fencedParts({
      verb: "heartbeat",
      accountId: as.caller.accountId,
      target: { id: r.id },
      lease: { workerId: r.workerId, epoch: r.epoch },
      allowed: r.allowed,
      where: sql`now() + ${ttl(r.leaseSeconds)} > tasks.lease_expires_at
        AND tasks.last_heartbeat_at <= now() - ${minGap(r.leaseSeconds)}`,
      update: {
        set: sql`lease_expires_at = now() + ${ttl(r.leaseSeconds)}, last_heartbeat_at = now(),
          progress = coalesce(${progress}::jsonb, t.progress)`,
      },
      event: {
        actor: as.caller.actor,
        data: sql`jsonb_build_object('progress', ${progress}::jsonb)`,
        when: sql`${progress}::jsonb IS NOT NULL`,
      },
      select: sql`lease_expires_at AS expires_at, lease_epoch AS epoch FROM updated`,
    }),
  );
  return row && { expires_at: row.expires_at, epoch: Number(row.epoch) };
}

export type HeartbeatProbe = {
  state: TaskState;
  lease_owner: string | null;
  lease_epoch: number;
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
  return result.rows[0] && decodeTask(result.rows[0]);
}
