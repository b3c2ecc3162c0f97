// Once per `vitest run`: a PostgreSQL (embedded, or DATABASE_URL when set), the Neon driver's
// WebSocket bridge as a child process, a migrated template database that every test file
// clones into a database of its own, and a real SpiceDB behind its JSON API (a child process).
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import "../../scripts/local/node-websocket.ts";
import { connectSession, isLoopback, withDatabase } from "../../scripts/local/database-url.ts";
import { startProxyProcess } from "../../scripts/local/db-proxy-process.ts";
import { type RunningPostgres, startEmbeddedPostgres } from "../../scripts/local/embedded-postgres.ts";
import { startSpiceDbJsonProcess } from "../../scripts/local/spicedb-json-process.ts";
import { applyRoleTimeouts, roleTimeoutsFrom } from "../../src/db/migrations/role-timeouts.ts";
import { runMigrations } from "../../src/db/migrations/runner.ts";
import { randomHex } from "../../src/lib/crypto.ts";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    dbProxy: string;
    templateDatabase: string;
    spicedbUrl: string;
    spicedbToken: string;
  }
}

const root = path.resolve(import.meta.dirname, "../..");

export default async function setup(project: TestProject) {
  let postgres: RunningPostgres | undefined;
  let baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) {
    postgres = await startEmbeddedPostgres({
      dataDir: mkdtempSync(path.join(os.tmpdir(), "leasehold-test-pg-")),
      persistent: false,
      fast: true,
    });
    baseUrl = postgres.url;
  }
  const target = new URL(baseUrl);
  const proxy = isLoopback(baseUrl)
    ? await startProxyProcess(target.hostname, Number(target.port || 5432))
    : undefined;
  const proxyAddress = proxy ? `127.0.0.1:${proxy.port}` : "";

  const template = `lh_template_${process.pid}`;
  const admin = await connectSession(baseUrl, proxyAddress || undefined);
  await admin.query(`DROP DATABASE IF EXISTS ${template}`);
  await admin.query(`CREATE DATABASE ${template}`);
  const session = await connectSession(withDatabase(baseUrl, template), proxyAddress || undefined);
  await runMigrations(session, { folder: path.join(root, "drizzle") });
  await session.end();
  // Tests run under the timeouts production sets on the Worker's role (ADR 0015).
  await applyRoleTimeouts(admin, roleTimeoutsFrom(process.env));

  project.provide("databaseUrl", baseUrl);
  project.provide("dbProxy", proxyAddress);
  project.provide("templateDatabase", template);
  // A real SpiceDB behind its JSON API, for the spicedb backend's suites (reached by fetch).
  const spicedb = await startSpiceDbJsonProcess(`spicedb-${randomHex(16)}`);
  project.provide("spicedbUrl", spicedb.url);
  project.provide("spicedbToken", spicedb.token);

  return async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`).catch(() => {});
    await admin.end().catch(() => {});
    proxy?.stop();
    spicedb.stop();
    await postgres?.stop();
  };
}
