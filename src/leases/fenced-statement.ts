// The one builder of fenced statements (DESIGN §4, §10): every write a leaseholder (or a person,
// where the lifecycle allows it) makes to a task is this shape, so the fence and the event row
// exist once. Zero rows back means tenant, state, lease or permission did not hold; the caller
// then asks `refusal.ts` which.
import { type SQL, sql } from "drizzle-orm";
import type { CallerStatement } from "../auth/caller.ts";
import { stateIn } from "../lifecycle/lifecycle-sql.ts";
import { fromStates, type VerbName } from "../lifecycle/task-lifecycle.ts";
import { type EventActor, eventInsert } from "../tasks/event-insert.ts";

/** The caller's lease (owner, epoch), no lease held at all, or the lease not looked at. */
export type LeaseCondition = { workerId: string; epoch: number } | "unleased" | "any";

/** Per-row owner and epoch, for a batch whose items each bring their own token. */
export type LeaseColumns = { owner: SQL; epoch: SQL };

/** The fence, judged by the database clock: a lease whose expiry equals now() is expired. */
export function leaseClause(lease: LeaseCondition | LeaseColumns): SQL {
  if (lease === "any") return sql`TRUE`;
  if (lease === "unleased") return sql`tasks.lease_owner IS NULL`;
  const [owner, epoch] =
    "workerId" in lease ? [sql`${lease.workerId}`, sql`${lease.epoch}`] : [lease.owner, lease.epoch];
  return sql`tasks.lease_owner = ${owner} AND tasks.lease_epoch = ${epoch} AND tasks.lease_expires_at > now()`;
}

export interface FencedStatement {
  verb: VerbName;
  /** The tenant: a value, or the statement's caller (auth/caller.ts). */
  accountId: string | SQL;
  /** One task by id, or several from a `source` CTE joined on `source.id` (its columns ride along in `target`). */
  target: { id: string } | { source: SQL; columns: SQL };
  lease: LeaseCondition | LeaseColumns;
  /** The caller's permission, over `tasks.id`. */
  allowed: SQL;
  /** More row conditions (over `tasks`), beyond tenant, state, lease and permission. */
  where?: SQL;
  /** CTEs between `target` and `updated` (each `name AS (…)`), which may read `target`. */
  before?: SQL[];
  /**
   * The task's change: `set` assignments for `UPDATE tasks AS t` (old values readable as `t.*`,
   * `target.*`); `join` names a `before` CTE that must have rows (`<name>.task_id = target.id`).
   * Without `set` the row is only locked and passed on, unchanged.
   */
  update: { set?: SQL; join?: string };
  /** CTEs after `updated`, which may read it. */
  after?: SQL[];
  event: { actor: EventActor; data?: SQL; when?: SQL };
  /** What the statement returns, over `updated` (or the `after` CTEs). */
  select: SQL;
}

export function fencedStatement(f: FencedStatement): SQL {
  const { ctes, select } = fencedParts(f);
  return sql`WITH ${sql.join(ctes, sql`, `)} SELECT ${select}`;
}

/** The same statement as CTEs and a select list, to run as the caller (`runAsCaller`). */
export function fencedParts(f: FencedStatement): CallerStatement {
  const single = "id" in f.target;
  const target = sql`
    SELECT tasks.id, tasks.state${single ? sql`` : sql`, ${(f.target as { columns: SQL }).columns}`}
    FROM tasks${single ? sql`` : sql` JOIN source ON source.id = tasks.id`}
    WHERE ${sql.join(
      [
        // A batch reads its rows by key: with the source's ids as an array, the primary key is
        // probed per id whatever the planner believes about the table (statistics go stale after
        // a burst of creates, and a scan of the account's backlog looked cheap).
        single
          ? sql`tasks.id = ${(f.target as { id: string }).id}`
          : sql`tasks.id = ANY (ARRAY(SELECT id FROM source))`,
        sql`tasks.account_id = ${f.accountId}`,
        stateIn(sql`tasks.state`, fromStates(f.verb)),
        leaseClause(f.lease),
        f.allowed,
        ...(f.where ? [f.where] : []),
      ],
      sql` AND `,
    )}
    ${single ? sql`FOR UPDATE` : sql`ORDER BY tasks.id FOR UPDATE OF tasks`}`;
  const join = f.update.join;
  const from = join ? sql`target JOIN ${sql.raw(join)} ON ${sql.raw(join)}.task_id = target.id` : sql`target`;
  const updated = f.update.set
    ? sql`UPDATE tasks AS t SET ${f.update.set}, updated_at = now() FROM ${from} WHERE t.id = target.id
          RETURNING t.*, target.state AS previous_state`
    : sql`SELECT t.*, target.state AS previous_state FROM tasks t JOIN ${from} ON t.id = target.id`;
  const ctes = [
    ...(single ? [] : [sql`source AS (${(f.target as { source: SQL }).source})`]),
    sql`target AS (${target})`,
    ...(f.before ?? []),
    sql`updated AS (${updated})`,
    ...(f.after ?? []),
    sql`event AS (${eventInsert({ from: sql`updated`, type: f.verb, actor: f.event.actor, data: f.event.data, where: f.event.when })})`,
  ];
  return { ctes, select: f.select };
}
