import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/client.ts";
import { StatementNames } from "../../src/db/statement-names.ts";
import { useTestApp } from "../support/test-app.ts";

describe("statement names", () => {
  const testApp = useTestApp();

  it("gives each text one stable name, distinct texts distinct names, and none past the cap", () => {
    const names = new StatementNames(2);
    const first = names.nameFor("SELECT 1");
    expect(first).toBeDefined();
    expect(names.nameFor("SELECT 1")).toBe(first);
    const second = names.nameFor("SELECT 2");
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(names.nameFor("SELECT 3")).toBeUndefined();
    expect(names.nameFor("SELECT 2")).toBe(second);
  });

  it("runs named statements again with new parameters on the same connection, with correct results", async () => {
    const handle = openDatabase(
      { databaseUrl: testApp.database.url, databaseWsProxy: testApp.database.proxy },
      () => {},
    );
    try {
      const results: number[] = [];
      for (const value of [1, 2, 3]) {
        const result = await handle.db.execute<{ doubled: number }>(sql`SELECT ${value}::int * 2 AS doubled`);
        results.push(Number(result.rows[0]?.doubled));
      }
      expect(results).toEqual([2, 4, 6]);
      const prepared = await handle.db.execute<{ statement: string }>(
        sql`SELECT statement FROM pg_prepared_statements WHERE name LIKE 'lh\\_%'`,
      );
      expect(prepared.rows.map((row) => row.statement)).toContain("SELECT $1::int * 2 AS doubled");
    } finally {
      await handle.close();
    }
  });
});
