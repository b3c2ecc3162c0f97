// Applies drizzle-kit migrations from Node: one transaction per migration, files marked
// `-- leasehold:no-transaction` statement by statement in autocommit (CREATE INDEX CONCURRENTLY,
// VALIDATE CONSTRAINT), all under one advisory lock so parallel deploys apply each file once.
import { type MigrationFile, readMigrationFolder } from "./journal.ts";

export interface SqlSession {
  query(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

export class MigrationError extends Error {
  constructor(
    message: string,
    readonly migration?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "MigrationError";
  }
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: number;
}

const lockKey = "leasehold:migrations";
const lockPollMs = 200;
const lockWaitMs = 15 * 60_000;

// Waits by polling pg_try_advisory_lock rather than blocking in pg_advisory_lock: a blocked
// statement holds a snapshot, and CREATE INDEX CONCURRENTLY in the holder's run waits for every
// older snapshot to go away, a deadlock PostgreSQL resolves by killing one side.
async function acquireLock(session: SqlSession, log: (line: string) => void): Promise<void> {
  const deadline = Date.now() + lockWaitMs;
  for (let waited = false; ; waited = true) {
    const { rows } = await session.query("SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked", [
      lockKey,
    ]);
    if (rows[0]?.locked === true) return;
    if (!waited) log("another migration run holds the lock; waiting");
    if (Date.now() > deadline)
      throw new MigrationError("gave up waiting for the migration lock after 15 minutes");
    await new Promise((resolve) => setTimeout(resolve, lockPollMs));
  }
}

export async function runMigrations(
  session: SqlSession,
  options: { folder: string; log?: (line: string) => void },
): Promise<MigrationReport> {
  const log = options.log ?? (() => {});
  const migrations = await readMigrationFolder(options.folder);
  // The role's timeouts (role-timeouts.ts) are for the Worker; a migration may rightly run long
  // (CREATE INDEX CONCURRENTLY on a big table), so this session has none.
  await session.query("SET statement_timeout = 0");
  await session.query("SET idle_in_transaction_session_timeout = 0");
  await acquireLock(session, log);
  try {
    await session.query("CREATE SCHEMA IF NOT EXISTS drizzle");
    await session.query(
      "CREATE TABLE IF NOT EXISTS drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)",
    );
    const { rows } = await session.query(
      "SELECT hash, created_at::text AS created_at FROM drizzle.__drizzle_migrations",
    );
    const appliedHashes = new Map(rows.map((row) => [Number(row.created_at), String(row.hash)]));
    checkAppliedMatchFiles(migrations, appliedHashes);

    const pending = migrations.filter((migration) => !appliedHashes.has(migration.createdAt));
    for (const migration of pending) {
      log(`applying ${migration.tag}${migration.transactional ? "" : " (outside a transaction)"}`);
      await applyMigration(session, migration);
    }
    return { applied: pending.map((migration) => migration.tag), alreadyApplied: appliedHashes.size };
  } finally {
    await session.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [lockKey]);
  }
}

function checkAppliedMatchFiles(migrations: MigrationFile[], applied: Map<number, string>): void {
  const known = new Map(migrations.map((migration) => [migration.createdAt, migration]));
  for (const [createdAt, hash] of applied) {
    const file = known.get(createdAt);
    if (!file) {
      throw new MigrationError(
        `the database has a migration (created_at ${createdAt}) this checkout does not know`,
      );
    }
    if (file.hash !== hash) {
      throw new MigrationError(
        `${file.tag} was edited after it was applied; add a new migration instead`,
        file.tag,
      );
    }
  }
}

async function applyMigration(session: SqlSession, migration: MigrationFile): Promise<void> {
  const record = () =>
    session.query("INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ($1, $2)", [
      migration.hash,
      migration.createdAt,
    ]);
  if (!migration.transactional) {
    for (const [index, statement] of migration.statements.entries()) {
      await runStatement(session, migration, index, statement);
    }
    await record();
    return;
  }
  await session.query("BEGIN");
  try {
    for (const [index, statement] of migration.statements.entries()) {
      await runStatement(session, migration, index, statement);
    }
    await record();
    await session.query("COMMIT");
  } catch (error) {
    await session.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

async function runStatement(session: SqlSession, migration: MigrationFile, index: number, statement: string) {
  try {
    await session.query(statement);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationError(
      `${migration.tag}, statement ${index + 1} of ${migration.statements.length}, failed: ${reason}\n${statement}`,
      migration.tag,
      { cause: error },
    );
  }
}
