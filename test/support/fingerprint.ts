// A fingerprint of everything a request could have changed: every table of the test file's
// database (row count and a digest of every row's text) and, on the spicedb backend, every
// relationship in SpiceDB. Equal fingerprints before and after a request: it changed nothing.
import { connectSession } from "../../scripts/local/database-url.ts";
import type { spicedbForFile } from "./spicedb.ts";
import type { TestDatabase } from "./test-database.ts";

/** Types that appear as resources in the authorization schema (authz/schema.zed). */
const graphTypes = ["account", "agent", "task", "schedule", "api_key"];

export async function openFingerprinter(
  database: TestDatabase,
  options: { exclude?: string[]; spicedb?: ReturnType<typeof spicedbForFile> } = {},
) {
  const session = await connectSession(database.url, database.proxy);
  const tables = (
    await session.query<{ name: string }>(
      "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    )
  ).rows
    .map((row) => row.name)
    .filter((name) => !(options.exclude ?? []).includes(name));
  // Identifiers come from the catalog and are quoted; the query is test-only.
  const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
  const text = tables
    .map(
      (name) =>
        `SELECT '${name}' AS name, count(*)::int AS rows, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS digest FROM ${quote(name)} t`,
    )
    .join(" UNION ALL ");

  // Relationships change only through these two calls: while their counts stand still, the edges
  // read last time are still the edges (reading them all costs one call per type).
  const { spicedb } = options;
  let writes: string | undefined;
  let edges: Record<string, string> = {};
  async function graph(): Promise<Record<string, string>> {
    if (!spicedb) return {};
    const calls = await spicedb.calls();
    const now = `${calls["/v1/relationships/write"] ?? 0}/${calls["/v1/relationships/delete"] ?? 0}`;
    if (now !== writes) {
      const read = await Promise.all(
        graphTypes.map(async (type) => [`spicedb:${type}`, (await spicedb.edges(type)).join("\n")]),
      );
      edges = Object.fromEntries(read);
      writes = now;
    }
    return edges;
  }

  return {
    tables,
    async take(): Promise<Record<string, string>> {
      const rows = (
        await session.query<{ name: string; rows: number; digest: string }>({ name: "fingerprint", text })
      ).rows;
      return {
        ...Object.fromEntries(rows.map((row) => [row.name, `${row.rows}:${row.digest}`])),
        ...(await graph()),
      };
    },
    close: () => session.end(),
  };
}
