// `npm run db:migrate`: applies drizzle/ to DATABASE_URL through the Neon driver. Against a local
// PostgreSQL it bridges the driver's WebSocket itself, so nothing else needs to be running.
import { MigrationError, runMigrations } from "../src/db/migrations/runner.ts";
import { connectSession, isLoopback } from "./local/database-url.ts";
import { startDbProxy } from "./local/db-proxy.ts";

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error("db:migrate: set DATABASE_URL to the database to migrate");
  process.exit(2);
}

const target = new URL(databaseUrl);
const proxy =
  !process.env.DATABASE_WS_PROXY && isLoopback(databaseUrl)
    ? await startDbProxy({ targetHost: target.hostname, targetPort: Number(target.port || 5432) })
    : undefined;
const session = await connectSession(
  databaseUrl,
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
} catch (error) {
  console.error(`db:migrate: failed: ${error instanceof MigrationError ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await session.end();
  await proxy?.close();
}
