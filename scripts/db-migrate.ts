// `npm run db:migrate`: applies drizzle/ over DATABASE_URL_DIRECT (a direct, non-pooled connection;
// DATABASE_URL only when it is local) through the Neon driver, then sets the statement and
// idle-in-transaction timeouts on the Worker's role. Against a local PostgreSQL it bridges the
// driver's WebSocket itself, so nothing else needs to be running.
import {
  applyRoleTimeouts,
  RoleTimeoutError,
  roleTimeoutsFrom,
  workerRoleOf,
} from "../src/db/migrations/role-timeouts.ts";
import { MigrationError, runMigrations } from "../src/db/migrations/runner.ts";
import {
  connectSession,
  isLoopback,
  MigrationTargetError,
  migrationDatabaseUrl,
} from "./local/database-url.ts";
import { startDbProxy } from "./local/db-proxy.ts";

let target: { url: string; from: string };
let timeouts: ReturnType<typeof roleTimeoutsFrom>;
try {
  target = migrationDatabaseUrl(process.env);
  timeouts = roleTimeoutsFrom(process.env);
} catch (error) {
  if (!(error instanceof MigrationTargetError || error instanceof RoleTimeoutError)) throw error;
  console.error(`db:migrate: ${error.message}`);
  process.exit(2);
}

const host = new URL(target.url);
const proxy =
  !process.env.DATABASE_WS_PROXY && isLoopback(target.url)
    ? await startDbProxy({ targetHost: host.hostname, targetPort: Number(host.port || 5432) })
    : undefined;
const session = await connectSession(
  target.url,
  process.env.DATABASE_WS_PROXY ?? (proxy ? `127.0.0.1:${proxy.port}` : undefined),
);
try {
  const report = await runMigrations(session, {
    folder: "drizzle",
    log: (line) => console.log(`db:migrate: ${line}`),
  });
  console.log(
    `db:migrate: ${report.applied.length} applied, ${report.alreadyApplied} already applied before this run`,
  );
  const role = workerRoleOf(process.env.DATABASE_URL);
  await applyRoleTimeouts(session, timeouts, { role });
  console.log(
    `db:migrate: role ${role ?? "(the migrating user)"}: statement_timeout ${timeouts.statementTimeout}, idle_in_transaction_session_timeout ${timeouts.idleInTransactionSessionTimeout}`,
  );
} catch (error) {
  console.error(`db:migrate: failed: ${error instanceof MigrationError ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await session.end();
  await proxy?.close();
}
