// A database of this test file's own, cloned from the migrated template. Works in Node and in
// workerd: both reach PostgreSQL through the Neon driver and the local bridge.
import { inject } from "vitest";
import { connectSession, withDatabase } from "../../scripts/local/database-url.ts";
import { randomHex } from "../../src/lib/crypto.ts";

export interface TestDatabase {
  name: string;
  url: string;
  proxy: string | undefined;
  drop(): Promise<void>;
}

/** `empty: true` gives an unmigrated database (for migration tests). */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const baseUrl = inject("databaseUrl");
  const proxy = inject("dbProxy") || undefined;
  const name = `lh_test_${randomHex(6)}`;
  const admin = await connectSession(baseUrl, proxy);
  try {
    await admin.query(
      options.empty
        ? `CREATE DATABASE ${name}`
        : `CREATE DATABASE ${name} TEMPLATE ${inject("templateDatabase")}`,
    );
  } finally {
    await admin.end();
  }
  return {
    name,
    url: withDatabase(baseUrl, name),
    proxy,
    async drop() {
      const session = await connectSession(baseUrl, proxy);
      try {
        await session.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await session.end();
      }
    },
  };
}
