import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { Client } from "@neondatabase/serverless";
import { afterEach, describe, expect, it } from "vitest";
import { connectSession } from "../../scripts/local/database-url.ts";
import { readMigrationFolder } from "../../src/db/migrations/journal.ts";
import { MigrationError, runMigrations } from "../../src/db/migrations/runner.ts";
import { writeMigrationFolder } from "../support/migration-fixtures.ts";
import { describeSchema } from "../support/schema-snapshot.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-database.ts";

const projectFolder = path.resolve(import.meta.dirname, "../../drizzle");
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function emptyDatabaseSession(): Promise<{ database: TestDatabase; session: Client }> {
  const database = await createTestDatabase({ empty: true });
  const session = await connectSession(database.url, database.proxy);
  cleanups.push(
    () => database.drop(),
    () => session.end(),
  );
  return { database, session };
}

async function trackedMigrations(session: Client): Promise<number> {
  const { rows } = await session.query("SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations");
  return rows[0].n;
}

describe("migration runner", () => {
  it("migrates an empty database, and a second run is a no-op", async () => {
    const { session } = await emptyDatabaseSession();
    const shipped = await readMigrationFolder(projectFolder);

    const first = await runMigrations(session, { folder: projectFolder });
    expect(first.applied).toEqual(shipped.map((migration) => migration.tag));
    const schemaAfterFirst = await describeSchema(session);

    const second = await runMigrations(session, { folder: projectFolder });
    expect(second).toEqual({ applied: [], alreadyApplied: shipped.length });
    expect(await trackedMigrations(session)).toBe(shipped.length);
    expect(await describeSchema(session)).toBe(schemaAfterFirst);
  });

  it("builds the committed schema, with the concurrent index valid and the NOT VALID check validated", async () => {
    const { session } = await emptyDatabaseSession();
    await runMigrations(session, { folder: projectFolder });
    const schema = await describeSchema(session);
    expect(schema).not.toContain("INVALID");
    expect(schema).not.toContain("not validated");
    await expect(schema).toMatchFileSnapshot("../__snapshots__/schema.txt");
  });

  it("ships files marked to run outside a transaction for CONCURRENTLY and VALIDATE", async () => {
    const shipped = await readMigrationFolder(projectFolder);
    const outside = shipped.filter((migration) => !migration.transactional);
    expect(outside.some((migration) => migration.statements.some((s) => /INDEX CONCURRENTLY/.test(s)))).toBe(
      true,
    );
    expect(outside.some((migration) => migration.statements.some((s) => /VALIDATE CONSTRAINT/.test(s)))).toBe(
      true,
    );
  });

  it("applies each migration once when two runners start together", async () => {
    const { database, session } = await emptyDatabaseSession();
    const other = await connectSession(database.url, database.proxy);
    cleanups.push(() => other.end());
    const reports = await Promise.all([
      runMigrations(session, { folder: projectFolder }),
      runMigrations(other, { folder: projectFolder }),
    ]);
    const shipped = await readMigrationFolder(projectFolder);
    expect(reports.flatMap((report) => report.applied).toSorted()).toEqual(
      shipped.map((m) => m.tag).toSorted(),
    );
    expect(await trackedMigrations(session)).toBe(shipped.length);
  });

  it("rolls back a failing migration whole and reports the real error", async () => {
    const { session } = await emptyDatabaseSession();
    const folder = writeMigrationFolder([
      ["0000_widgets", "CREATE TABLE widgets (id int PRIMARY KEY);"],
      [
        "0001_broken",
        "CREATE TABLE gadgets (id int);--> statement-breakpoint\nALTER TABLE widgets ADD COLUMN size int NOT NULL DEFAULT 'big';",
      ],
    ]);
    const failure = await runMigrations(session, { folder }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(MigrationError);
    expect((failure as MigrationError).migration).toBe("0001_broken");
    expect((failure as Error).message).toContain("statement 2 of 2");
    expect((failure as Error).message).toContain('invalid input syntax for type integer: "big"');

    const { rows } = await session.query(
      "SELECT to_regclass('widgets') AS widgets, to_regclass('gadgets') AS gadgets",
    );
    expect(rows[0]).toEqual({ widgets: "widgets", gadgets: null });
    expect(await trackedMigrations(session)).toBe(1);
  });

  it("runs transactional files in a transaction, so CONCURRENTLY there fails loudly", async () => {
    const { session } = await emptyDatabaseSession();
    const folder = writeMigrationFolder([
      ["0000_table", "CREATE TABLE things (id int);"],
      ["0001_unmarked_concurrent_index", "CREATE INDEX CONCURRENTLY things_id ON things (id);"],
    ]);
    await expect(runMigrations(session, { folder })).rejects.toThrow(/cannot run inside a transaction block/);
  });

  it("refuses to run when an applied migration was edited", async () => {
    const { session } = await emptyDatabaseSession();
    const folder = writeMigrationFolder([["0000_table", "CREATE TABLE things (id int);"]]);
    await runMigrations(session, { folder });
    writeFileSync(path.join(folder, "0000_table.sql"), "CREATE TABLE things (id bigint);");
    await expect(runMigrations(session, { folder })).rejects.toThrow(
      /0000_table was edited after it was applied/,
    );
  });

  it("has no schema drift: drizzle-kit generates nothing new from src/db", async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), "leasehold-drift-"));
    cpSync(projectFolder, out, { recursive: true });
    const config = path.join(out, "drizzle.config.mjs");
    writeFileSync(
      config,
      `export default { dialect: "postgresql", schema: "./src/db/schema/index.ts", out: ${JSON.stringify(path.relative(process.cwd(), out))} };`,
    );
    const before = readdirSync(out).length;
    const { stdout, stderr } = await promisify(execFile)(path.resolve("node_modules/.bin/drizzle-kit"), [
      "generate",
      "--config",
      config,
    ]);
    expect(`${stdout}${stderr}`).toContain("No schema changes");
    expect(readdirSync(out).length).toBe(before);
  });
});
