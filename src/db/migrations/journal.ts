// Reads drizzle-kit's migration folder: the journal orders the files, `--> statement-breakpoint`
// separates statements, and the hash is drizzle's (sha256 of the whole file) so the tracking
// table stays compatible with drizzle's own migrator.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";

export const noTransactionMarker = "-- leasehold:no-transaction";

export interface MigrationFile {
  tag: string;
  /** Journal timestamp, stored as `created_at` in drizzle's tracking table. */
  createdAt: number;
  hash: string;
  statements: string[];
  transactional: boolean;
}

interface Journal {
  entries: { idx: number; when: number; tag: string }[];
}

export async function readMigrationFolder(folder: string): Promise<MigrationFile[]> {
  const journal = JSON.parse(await readFile(path.join(folder, "meta", "_journal.json"), "utf8")) as Journal;
  return Promise.all(
    journal.entries
      .toSorted((a, b) => a.idx - b.idx)
      .map(async (entry) => {
        const text = await readFile(path.join(folder, `${entry.tag}.sql`), "utf8");
        return {
          tag: entry.tag,
          createdAt: entry.when,
          hash: createHash("sha256").update(text).digest("hex"),
          statements: text
            .split("--> statement-breakpoint")
            .map((statement) => statement.trim())
            .filter((statement) => statement.length > 0),
          transactional: !text.trimStart().startsWith(noTransactionMarker),
        };
      }),
  );
}
