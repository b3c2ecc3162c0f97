// Who is calling, as the statements of one request see it (DESIGN §10). A hot request does not
// look its API key up first: its one statement begins with the `caller` CTE, which finds the key
// and checks its secret, and every tenant filter, permission check and event actor in the
// statement reads that CTE. A request whose principal is already known (a route that looked the
// key up first) gets the same CTE over bound values, so a verb is written once for both.
import { type SQL, sql } from "drizzle-orm";
import { principalSubject } from "../authz/subjects.ts";
import type { Executor } from "../db/client.ts";
import type { AccountRole, PrincipalType } from "../db/schema/enums.ts";
import { UnauthenticatedError } from "../errors/domain-error.ts";
import type { Principal } from "./principal.ts";

/** The columns the `caller` CTE has, and that every row of a statement run as the caller carries. */
export interface CallerColumns {
  caller_key_id: string | null;
  caller_account_id: string | null;
  caller_principal_type: PrincipalType | null;
  caller_principal_id: string | null;
  caller_role: AccountRole | null;
  caller_subject_id: string | null;
}

export interface Caller {
  /** `caller AS MATERIALIZED (…)`: the first CTE of a statement run as the caller. */
  readonly cte: SQL;
  /** The principal's fields as SQL: bound values once known, else reads of the CTE. */
  readonly accountId: SQL;
  readonly actor: { type: SQL; id: SQL };
  /** The principal as a subject of the authorization graph (see authz/subjects.ts). */
  readonly subject: { type: SQL; id: SQL };
  /** The principal, once a statement (or an earlier lookup) has authenticated it. */
  readonly principal: Principal | undefined;
  /** Reads the caller columns of a statement's first row: the principal, or a 401. */
  accept(row: CallerColumns | undefined): Principal;
}

const column = (name: keyof CallerColumns) => sql.raw(`(SELECT ${name} FROM caller)`);

/**
 * A caller the statement itself authenticates. `keyCte` finds the unrevoked key whose secret
 * matches (api-keys/repo.ts); `rejected` remembers a token that did not. Its fields render as
 * reads of the CTE until a statement has accepted the principal, and as the principal's bound
 * values from then on, so SQL built before (a permission predicate) serves later statements too.
 */
export function statementCaller(keyCte: SQL, rejected: () => void): Caller {
  let known: Caller | undefined;
  const until = (before: SQL, after: (caller: Caller) => SQL): SQL =>
    sql`${{ getSQL: () => (known ? after(known) : before), shouldOmitSQLParens: () => true }}`;
  return {
    cte: until(keyCte, (caller) => caller.cte),
    accountId: until(column("caller_account_id"), (caller) => caller.accountId),
    actor: {
      type: until(column("caller_principal_type"), (caller) => caller.actor.type),
      id: until(column("caller_principal_id"), (caller) => caller.actor.id),
    },
    subject: {
      type: until(column("caller_principal_type"), (caller) => caller.subject.type),
      id: until(column("caller_subject_id"), (caller) => caller.subject.id),
    },
    get principal() {
      return known?.principal;
    },
    accept(row) {
      if (known) return known.accept(row);
      if (!row?.caller_key_id) {
        rejected();
        throw new UnauthenticatedError();
      }
      const principal: Principal = {
        keyId: row.caller_key_id,
        accountId: row.caller_account_id as string,
        type: row.caller_principal_type as PrincipalType,
        id: row.caller_principal_id as string,
        role: row.caller_role as AccountRole,
      };
      known = knownCaller(principal);
      return principal;
    },
  };
}

/** The principal of a caller that is authenticated; reading it any earlier is a bug, so it throws. */
export function principalOf(caller: Caller): Principal {
  if (!caller.principal) throw new Error("caller: the principal is read before a statement authenticated it");
  return caller.principal;
}

/** A caller whose key was looked up before the verb ran: the same CTE, over bound values. */
export function knownCaller(principal: Principal): Caller {
  const subjectId = principalSubject(principal).id;
  return {
    cte: sql`caller AS (SELECT ${principal.keyId}::text AS caller_key_id,
      ${principal.accountId}::text AS caller_account_id,
      ${principal.type}::text AS caller_principal_type,
      ${principal.id}::text AS caller_principal_id, ${principal.role}::account_role AS caller_role,
      ${subjectId}::text AS caller_subject_id)`,
    accountId: sql`${principal.accountId}`,
    actor: { type: sql`${principal.type}`, id: sql`${principal.id}` },
    subject: { type: sql`${principal.type}`, id: sql`${subjectId}` },
    principal,
    accept: () => principal,
  };
}

/** Where a statement run as the caller goes: the request's database and its caller. */
export interface CallerDb {
  db: Executor;
  caller: Caller;
}

export interface CallerStatement {
  /** CTEs after `caller` (each `name AS (…)`); they may read it. */
  ctes: SQL[];
  /** The result rows: what follows `SELECT` (columns, then `FROM …`). */
  select: SQL;
  /** The order of the result rows, over their column names. */
  order?: SQL;
  /**
   * A query of at most one row, run only when there are no result rows: what the verb needs to
   * tell an empty answer (nothing to do) from a refusal without a second statement.
   */
  probe?: SQL;
}

export interface CallerResult<T, P> {
  rows: T[];
  /** The probe's row (as JSON), when the statement had one and no result rows. */
  probe: P | undefined;
}

/**
 * Runs one statement as the caller and returns its result rows. The statement always answers at
 * least one row, so even a statement that changed nothing says whether the caller authenticated:
 * a 401 comes from here, and anything else the verb explains from its own columns.
 */
export async function runAsCaller<T extends Record<string, unknown>, P = never>(
  ctx: CallerDb,
  statement: CallerStatement,
): Promise<CallerResult<T, P>> {
  const ctes = [
    ctx.caller.cte,
    ...statement.ctes,
    sql`result AS (SELECT TRUE AS result_row, ${statement.select})`,
  ];
  const probe = statement.probe
    ? sql`(SELECT to_jsonb(p) FROM (${statement.probe}) AS p WHERE NOT EXISTS (SELECT FROM result))`
    : sql`NULL::jsonb`;
  const order = statement.order ? sql` ORDER BY ${statement.order}` : sql``;
  const { rows } = await ctx.db.execute<Record<string, unknown>>(sql`
    WITH ${sql.join(ctes, sql`, `)}
    SELECT caller.*, ${probe} AS result_probe, result.* FROM (SELECT) AS one
      LEFT JOIN caller ON TRUE LEFT JOIN result ON TRUE${order}`);
  const head = rows[0];
  ctx.caller.accept(head as CallerColumns | undefined);
  return {
    rows: rows.filter((row) => row.result_row).map(withoutCallerColumns) as unknown as T[],
    probe: (head?.result_probe ?? undefined) as P | undefined,
  };
}

function withoutCallerColumns(row: Record<string, unknown>): Record<string, unknown> {
  const {
    caller_key_id: _key,
    caller_account_id: _account,
    caller_principal_type: _type,
    caller_principal_id: _id,
    caller_role: _role,
    caller_subject_id: _subject,
    result_probe: _probe,
    result_row: _marker,
    ...rest
  } = row;
  return rest;
}

/** The principal; a caller no statement has authenticated yet is authenticated by one of its own. */
export async function authenticated(as: CallerDb): Promise<Principal> {
  if (!as.caller.principal) await runAsCaller(as, { ctes: [], select: sql`NULL AS nothing` });
  return principalOf(as.caller);
}
