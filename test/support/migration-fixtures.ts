import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** A drizzle-kit style migration folder in a temp dir, from `[tag, sql]` pairs. */
export function writeMigrationFolder(migrations: [tag: string, sql: string][]): string {
  const folder = mkdtempSync(path.join(os.tmpdir(), "leasehold-migrations-"));
  mkdirSync(path.join(folder, "meta"));
  const entries = migrations.map(([tag], idx) => ({
    idx,
    version: "7",
    when: 1_700_000_000_000 + idx,
    tag,
    breakpoints: true,
  }));
  writeFileSync(
    path.join(folder, "meta", "_journal.json"),
    JSON.stringify({ version: "7", dialect: "postgresql", entries }),
  );
  for (const [tag, sql] of migrations) writeFileSync(path.join(folder, `${tag}.sql`), sql);
  return folder;
}
