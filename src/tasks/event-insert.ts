import { type SQL, sql } from "drizzle-orm";

/** Who acted: bound values, or per-row SQL (a schedule's runs name their schedule). */
export type EventActor = { type: string | SQL; id: string | SQL };

import { eventTypeSql } from "../lifecycle/lifecycle-sql.ts";
import type { VerbName } from "../lifecycle/task-lifecycle.ts";

export interface EventSource {
  /** The CTE (or table) the rows come from: it has `account_id`, `id`, `state` and `lease_epoch`. */
  from: SQL;
  /** The verb whose event it is, or a note's own type (`audit_note`, `stale_lease_rejected`). */
  type: VerbName | { note: string };
  actor: EventActor;
  /** The state before, per row; `NULL` for a created task; the row's state for a note. */
  fromState?: SQL;
  /** The fencing epoch the event names; `NULL` for a created task. */
  leaseEpoch?: SQL;
  data?: SQL;
  where?: SQL;
}

/**
 * The one way an event row is written (DESIGN §4: every transition and note in the audit trail),
 * as an `INSERT … SELECT` over the rows a statement just changed, so the event commits with them.
 */
export function eventInsert(e: EventSource): SQL {
  const type = typeof e.type === "string" ? eventTypeSql(e.type) : sql`${e.type.note}`;
  return sql`
    INSERT INTO task_events (account_id, task_id, type, from_state, to_state, actor_type, actor_id, lease_epoch, data)
    SELECT account_id, id, ${type}, ${e.fromState ?? sql`previous_state`}, state, ${e.actor.type}, ${e.actor.id},
           ${e.leaseEpoch ?? sql`lease_epoch`}, ${e.data ?? sql`NULL::jsonb`}
    FROM ${e.from}${e.where ? sql` WHERE ${e.where}` : sql``}`;
}

/** A value as a jsonb parameter (JSON `null` for undefined). */
export const jsonb = (value: unknown) => sql`${JSON.stringify(value ?? null)}::jsonb`;

/** The `created` event of every task a statement just inserted (`from`), optionally with data. */
export const createdEvents = (from: SQL, actor: EventActor, data?: SQL) =>
  eventInsert({ from, type: "create", actor, fromState: sql`NULL::task_state`, leaseEpoch: sql`NULL`, data });
