// Many tasks at once for the spicedb backend's scale tests: rows by one set-based INSERT, their
// edges by 1,000-update writes, as registration (and a viewer grant) would have left them.
import type { Relationship } from "../../src/authz/model.ts";
import { SpiceDbClient } from "../../src/authz/spicedb/client.ts";
import { changeEdges } from "../../src/authz/spicedb/relationships.ts";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { newId } from "../../src/lib/ids.ts";
import { queryRows } from "./graph.ts";
import type { spicedbForFile } from "./spicedb.ts";
import type { TestDatabase } from "./test-database.ts";

type TestSpiceDb = ReturnType<typeof spicedbForFile>;

export const clientFor = (spicedb: TestSpiceDb) =>
  new SpiceDbClient({ url: spicedb.url, token: spicedb.token, metrics: { count: () => {} } });

/** Calls per API path since `before` (a `spicedb.calls()` snapshot). */
export async function callsSince(spicedb: TestSpiceDb, before: Record<string, number>) {
  const after = await spicedb.calls();
  return Object.fromEntries(
    Object.entries(after)
      .map(([path, count]) => [path, count - (before[path] ?? 0)] as const)
      .filter(([, count]) => count > 0),
  );
}

/** A database handle of the test's own (for calling domain verbs outside the app). */
export async function withDb<T>(database: TestDatabase, use: (db: Database) => Promise<T>): Promise<T> {
  const handle = openDatabase({ databaseUrl: database.url, databaseWsProxy: database.proxy }, () => {});
  try {
    return await use(handle.db);
  } finally {
    await handle.close();
  }
}

/**
 * `count` tasks of the agent, finished `finishedDaysAgo` days ago (or live when null), each with
 * its account and parent_agent edges and, for every tenth, a viewer grant to `viewer`.
 */
export async function seedTasks(
  database: TestDatabase,
  spicedb: TestSpiceDb,
  options: {
    accountId: string;
    agentId: string;
    count: number;
    finishedDaysAgo: number | null;
    viewer?: string;
  },
): Promise<string[]> {
  const ids = Array.from({ length: options.count }, () => newId("tsk", Date.now() - 40 * 86_400_000));
  const finished = options.finishedDaysAgo;
  await queryRows(
    database,
    `INSERT INTO tasks (id, account_id, agent_id, type, state, max_attempts, finished_at)
     SELECT id, $1, $2, 'seeded', $3::task_state, 1,
       CASE WHEN $4::int IS NULL THEN NULL ELSE now() - make_interval(days => $4::int) END
     FROM unnest($5::text[]) AS id`,
    [options.accountId, options.agentId, finished === null ? "submitted" : "completed", finished, ids],
  );
  const edges: Relationship[] = ids.flatMap((id, index) => [
    {
      resourceType: "task",
      resourceId: id,
      relation: "account",
      subject: { type: "account", id: options.accountId },
    },
    {
      resourceType: "task",
      resourceId: id,
      relation: "parent_agent",
      subject: { type: "agent", id: options.agentId },
    },
    ...(options.viewer && index % 10 === 0
      ? [
          {
            resourceType: "task" as const,
            resourceId: id,
            relation: "viewer",
            subject: { type: "user", id: options.viewer },
          },
        ]
      : []),
  ]);
  await changeEdges(clientFor(spicedb), edges, []);
  return ids;
}

/** Ids of tasks that still have at least one edge in SpiceDB. */
export async function tasksWithEdges(spicedb: TestSpiceDb): Promise<Set<string>> {
  return new Set((await spicedb.edges("task")).map((edge) => edge.slice("task:".length, edge.indexOf("#"))));
}
