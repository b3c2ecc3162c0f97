import journal from "../../drizzle/meta/_journal.json" with { type: "json" };
import type { Database } from "../db/client.ts";
import { sqlState } from "../db/pg-error.ts";
import { countAppliedMigrations } from "./repo.ts";

const expectedMigrations = journal.entries.map((entry) => entry.when);
const undefinedTable = "42P01";

export interface Readiness {
  ready: boolean;
  migrations: { expected: number; applied: number };
}

/** Ready when the database answers and every migration this build ships has been applied. */
export async function checkReadiness(db: Database): Promise<Readiness> {
  let applied = 0;
  try {
    applied = await countAppliedMigrations(db, expectedMigrations);
  } catch (error) {
    if (sqlState(error) !== undefinedTable) throw error;
  }
  return {
    ready: applied === expectedMigrations.length,
    migrations: { expected: expectedMigrations.length, applied },
  };
}
