// DESIGN §9: `npm run db:migrate` runs over DATABASE_URL_DIRECT and refuses Neon's pooled
// endpoint; after migrating it sets the timeouts on the Worker's role (ADR 0015).
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import {
  connectSession,
  isNeonPooledHost,
  MigrationTargetError,
  migrationDatabaseUrl,
} from "../../scripts/local/database-url.ts";
import { randomHex } from "../../src/lib/crypto.ts";
import { createTestDatabase } from "../support/test-database.ts";

const root = path.resolve(import.meta.dirname, "../..");
const neonDirect = "postgres://app:s3cret@ep-cool-darkness-123456.us-east-2.aws.neon.tech/app";
const neonPooled = "postgres://app:s3cret@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/app";

/** Runs `npm run db:migrate`'s script with exactly `env` (plus PATH). */
async function dbMigrate(env: Record<string, string>) {
  const run = promisify(execFile)(
    process.execPath,
    [path.join(root, "node_modules/tsx/dist/cli.mjs"), "scripts/db-migrate.ts"],
    { cwd: root, env: { PATH: process.env.PATH ?? "", ...env }, timeout: 120_000 },
  );
  return run.then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({
      code: error.code ?? -1,
      stdout: error.stdout ?? "",
      stderr: error.stderr ?? "",
    }),
  );
}

describe("db:migrate's target", () => {
  it("takes DATABASE_URL_DIRECT, or DATABASE_URL only when it is local", () => {
    expect(migrationDatabaseUrl({ DATABASE_URL_DIRECT: neonDirect, DATABASE_URL: neonPooled })).toEqual({
      url: neonDirect,
      from: "DATABASE_URL_DIRECT",
    });
    const local = "postgres://postgres:pw@127.0.0.1:5432/leasehold";
    expect(migrationDatabaseUrl({ DATABASE_URL: local })).toEqual({ url: local, from: "DATABASE_URL" });
    expect(() => migrationDatabaseUrl({ DATABASE_URL: neonDirect })).toThrow(/set DATABASE_URL_DIRECT/);
    expect(() => migrationDatabaseUrl({})).toThrow(MigrationTargetError);
    expect(() => migrationDatabaseUrl({ DATABASE_URL_DIRECT: "not a url" })).toThrow(/not a valid/);
  });

  it("refuses a Neon pooled host, naming the fix and not the password", () => {
    expect(isNeonPooledHost(neonPooled)).toBe(true);
    expect(isNeonPooledHost(neonDirect)).toBe(false);
    // Only the first DNS label counts.
    expect(isNeonPooledHost("postgres://u@db.my-pooler.example.com/app")).toBe(false);
    expect(() => migrationDatabaseUrl({ DATABASE_URL_DIRECT: neonPooled })).toThrow(
      "DATABASE_URL_DIRECT points at Neon's pooled endpoint (ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech); use the direct connection string (the host without -pooler)",
    );
  });

  it("exits 2 with that one line, before connecting anywhere", async () => {
    const pooled = await dbMigrate({ DATABASE_URL_DIRECT: neonPooled });
    expect(pooled.code).toBe(2);
    expect(pooled.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(
        /^db:migrate: DATABASE_URL_DIRECT points at Neon's pooled endpoint .*without -pooler\)$/,
      ),
    ]);
    expect(`${pooled.stdout}${pooled.stderr}`).not.toContain("s3cret");
  }, 60_000);

  it("migrates over the direct URL and sets the timeouts on DATABASE_URL's role", async () => {
    const database = await createTestDatabase({ empty: true });
    const role = `lh_worker_${randomHex(4)}`;
    const admin = await connectSession(database.url, database.proxy);
    try {
      await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'worker'`);
      const workerUrl = new URL(database.url);
      workerUrl.username = role;
      workerUrl.password = "worker";
      const result = await dbMigrate({
        DATABASE_URL_DIRECT: database.url,
        DATABASE_URL: workerUrl.toString(),
        ...(database.proxy ? { DATABASE_WS_PROXY: database.proxy } : {}),
        LEASEHOLD_STATEMENT_TIMEOUT: "7s",
      });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`role ${role}: statement_timeout 7s`);
      const { rows } = await admin.query(
        `SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
          WHERE r.rolname = $1 AND s.setdatabase = 0`,
        [role],
      );
      expect(rows.map((row) => row.setconfig)).toEqual([
        ["statement_timeout=7s", "idle_in_transaction_session_timeout=15s"],
      ]);
      const tracked = await admin.query("SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations");
      expect(tracked.rows[0].n).toBeGreaterThan(0);
    } finally {
      await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
      await admin.end();
      await database.drop();
    }
  }, 120_000);
});
