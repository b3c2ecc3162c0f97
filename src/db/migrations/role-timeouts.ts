// Session timeouts for the Worker's database role (DESIGN §1, §14; ADR 0015). Set on the role, not
// per session: the Worker never relies on session state (a transaction-mode pooler would lose a
// SET, and Neon's HTTP path has no session), and every new session of the role starts with them.
import type { SqlSession } from "./runner.ts";

export interface RoleTimeouts {
  statementTimeout: string;
  idleInTransactionSessionTimeout: string;
}

/**
 * 10 s per statement: far beyond any statement the Worker runs (hot paths take milliseconds, batches
 * are capped at 1,000 rows), and below the 15 s Neon's proxy allows an HTTP query, so PostgreSQL
 * cancels first with a clean 57014. 15 s idle in a transaction: above the slowest call the Worker
 * makes inside one (a SpiceDB registration joined to a create: 4 attempts of 2 s and 1 s of backoff).
 */
export const defaultRoleTimeouts: RoleTimeouts = {
  statementTimeout: "10s",
  idleInTransactionSessionTimeout: "15s",
};

export const timeoutEnv = {
  statementTimeout: "LEASEHOLD_STATEMENT_TIMEOUT",
  idleInTransactionSessionTimeout: "LEASEHOLD_IDLE_IN_TRANSACTION_TIMEOUT",
} as const;

const durationPattern = /^[1-9][0-9]{0,8}(ms|s|min)$/;

export class RoleTimeoutError extends Error {
  override name = "RoleTimeoutError";
}

/** The defaults, overridden by LEASEHOLD_STATEMENT_TIMEOUT / LEASEHOLD_IDLE_IN_TRANSACTION_TIMEOUT. */
export function roleTimeoutsFrom(env: Record<string, string | undefined>): RoleTimeouts {
  const read = (key: keyof RoleTimeouts) => {
    const value = env[timeoutEnv[key]]?.trim() || defaultRoleTimeouts[key];
    if (!durationPattern.test(value)) {
      throw new RoleTimeoutError(
        `${timeoutEnv[key]} must be a positive duration such as 500ms, 10s or 2min (got "${value}")`,
      );
    }
    return value;
  };
  return {
    statementTimeout: read("statementTimeout"),
    idleInTransactionSessionTimeout: read("idleInTransactionSessionTimeout"),
  };
}

/**
 * `ALTER ROLE <role> [IN DATABASE <database>] SET …` for both timeouts; new sessions of the role
 * get them. Without `role`, the session's own user. The server quotes the names and values
 * (format %I / %L): utility statements take no bind parameters.
 */
export async function applyRoleTimeouts(
  session: SqlSession,
  timeouts: RoleTimeouts,
  options: { role?: string; database?: string } = {},
): Promise<void> {
  for (const [setting, value] of [
    ["statement_timeout", timeouts.statementTimeout],
    ["idle_in_transaction_session_timeout", timeouts.idleInTransactionSessionTimeout],
  ] as const) {
    if (!durationPattern.test(value)) throw new RoleTimeoutError(`invalid ${setting}: "${value}"`);
    const { rows } = await session.query(
      `SELECT CASE WHEN $2::text IS NULL
          THEN format('ALTER ROLE %I SET %s = %L', coalesce($1::text, current_user), $3::text, $4::text)
          ELSE format('ALTER ROLE %I IN DATABASE %I SET %s = %L', coalesce($1::text, current_user), $2::text, $3::text, $4::text)
        END AS statement`,
      [options.role ?? null, options.database ?? null, setting, value],
    );
    await session.query(String(rows[0]?.statement));
  }
}

/** The Worker's role: the user named in its DATABASE_URL, when one is given. */
export function workerRoleOf(databaseUrl: string | undefined): string | undefined {
  if (!databaseUrl) return undefined;
  const user = decodeURIComponent(new URL(databaseUrl).username);
  return user || undefined;
}
