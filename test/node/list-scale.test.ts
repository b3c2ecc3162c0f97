// DESIGN §14: a viewer's list is driven from what it may read, not a scan of the account. One
// account with 1,000,000 tasks (and their edges); a viewer who may read 10 of them, some through
// task grants and some through a viewer grant on an agent. The very statements the list verb
// sends are run again under EXPLAIN ANALYZE: what they read must not grow with the account.
import type { Client } from "@neondatabase/serverless";
import { beforeAll, describe, expect, it } from "vitest";
import { connectSession } from "../../scripts/local/database-url.ts";
import { principalSubject } from "../../src/authz/subjects.ts";
import { createAccount, createPrincipal, type TestPrincipal } from "../support/factories.ts";
import { queryRows } from "../support/graph.ts";
import { type CapturedStatement, capturingStatements, explainAnalyze } from "../support/query-plans.ts";
import { callAs, createAgent, createTask } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";
import type { TestDatabase } from "../support/test-database.ts";

const totalTasks = 1_000_000;
const apiTasks = 4;
const bulkTasks = totalTasks - apiTasks;
// Bulk tasks get ids `tsk_000…<n>`: valid, ordered, and older than any id the API makes.
const bulkId = (n: number) => `tsk_${String(n).padStart(26, "0")}`;
const grantedBulk = [7, 1000, 250_001, 500_002, 750_003, 999_990].map(bulkId);

/** A session for building the data set, free of the role's statement timeout. */
async function withSession<T>(database: TestDatabase, run: (session: Client) => Promise<T>): Promise<T> {
  const session = await connectSession(database.url, database.proxy);
  try {
    await session.query("SET statement_timeout = 0");
    return await run(session);
  } finally {
    await session.end();
  }
}

/**
 * A table's indexes and the foreign keys it holds, each with the statement that builds it (the
 * primary key and foreign keys as constraints), in the order to build them.
 */
async function structureOf(session: Client, table: string) {
  const result = await session.query(
    `SELECT name, kind, "create" FROM (
       SELECT i.relname AS name, CASE WHEN c.oid IS NULL THEN 'index' ELSE 'primary' END AS kind,
              CASE WHEN c.oid IS NULL THEN pg_get_indexdef(i.oid)
                   ELSE format('ALTER TABLE %I ADD CONSTRAINT %I %s', $1::text, c.conname, pg_get_constraintdef(c.oid))
              END AS "create", 0 AS step
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
       LEFT JOIN pg_constraint c ON c.conindid = i.oid AND c.contype = 'p'
       WHERE x.indrelid = $1::regclass
       UNION ALL
       SELECT conname, 'foreign', format('ALTER TABLE %I ADD CONSTRAINT %I %s', $1::text, conname, pg_get_constraintdef(oid)), 1
       FROM pg_constraint WHERE contype = 'f' AND conrelid = $1::regclass
     ) parts ORDER BY step, name`,
    [table],
  );
  return result.rows as { name: string; kind: "index" | "primary" | "foreign"; create: string }[];
}

/**
 * Runs a bulk insert with the table's indexes and foreign keys dropped, then builds them again
 * from their own definitions (each foreign key validated by one scan instead of a check per row)
 * and checks the table is exactly what it was. A primary key other tables reference stays.
 */
async function bulkLoad(
  database: TestDatabase,
  table: string,
  insert: (session: Client) => Promise<unknown>,
): Promise<string> {
  return withSession(database, async (session) => {
    await session.query("SET maintenance_work_mem = '256MB'");
    const structure = await structureOf(session, table);
    const referenced = await session.query(
      "SELECT 1 FROM pg_constraint WHERE contype = 'f' AND confrelid = $1::regclass",
      [table],
    );
    const dropped = structure.filter((part) => !(part.kind === "primary" && referenced.rows.length > 0));
    for (const part of dropped.toReversed()) {
      await session.query(
        part.kind === "index"
          ? `DROP INDEX ${part.name}`
          : `ALTER TABLE ${table} DROP CONSTRAINT ${part.name}`,
      );
    }
    const started = Date.now();
    await insert(session);
    const inserted = Date.now();
    for (const part of dropped) await session.query(part.create);
    expect(await structureOf(session, table)).toEqual(structure);
    return `${table}: insert ${inserted - started} ms, ${dropped.length} indexes and keys ${Date.now() - inserted} ms`;
  });
}

type Row = { id: string; state: string; agent_id: string; type: string; creator_user_id: string };

describe("lists at 1,000,000 tasks", () => {
  const captured: CapturedStatement[] = [];
  const t = useTestApp(capturingStatements(captured));
  let admin: TestPrincipal;
  let viewer: TestPrincipal;
  let editor: TestPrincipal;
  let bigAgents: string[];
  let shared: string;
  let readable: Row[];

  beforeAll(async () => {
    const accountId = await createAccount(t.client);
    admin = await createPrincipal(t.client, accountId, { role: "admin" });
    viewer = await createPrincipal(t.client, accountId, { role: "member" });
    editor = await createPrincipal(t.client, accountId, { role: "member" });
    bigAgents = [];
    for (let i = 0; i < 4; i++) bigAgents.push(await createAgent(t.client, admin));
    shared = await createAgent(t.client, admin);
    const asAdmin = callAs(t.client, admin);
    for (const [subject, relation] of [
      [viewer, "viewer"],
      [editor, "editor"],
    ] as const) {
      const grant = await asAdmin("POST", `/v1/agents/${shared}/grants`, {
        subject: { type: subject.type, id: subject.id },
        relation,
      });
      expect(grant.status).toBe(200);
    }

    const started = Date.now();
    // Set-based, as the API would have written them: the rows, and their account, owner and
    // parent_agent edges. The two tables fill side by side, each with its indexes and foreign keys
    // built after the load from their own definitions (a sorted build, one validating scan).
    const timings = await Promise.all([
      bulkLoad(t.database, "tasks", (session) =>
        session.query(
          `INSERT INTO tasks (id, account_id, agent_id, type, state, max_attempts, creator_user_id, finished_at)
             SELECT 'tsk_' || lpad(g::text, 26, '0'), $1, ($2::text[])[1 + g % 4],
                    (ARRAY['summarize', 'email', 'crawl'])[1 + g % 3],
                    (CASE WHEN g % 50000 = 7 THEN 'input_required' WHEN g % 1000 = 0 THEN 'failed'
                          WHEN g % 10 IN (1, 2) THEN 'submitted' ELSE 'completed' END)::task_state,
                    3, $3,
                    CASE WHEN g % 50000 = 7 OR g % 10 IN (1, 2) THEN NULL ELSE now() END
             FROM generate_series(1, $4::int) AS g`,
          [accountId, bigAgents, admin.id, bulkTasks],
        ),
      ),
      bulkLoad(t.database, "authz_relationships", (session) =>
        session.query(
          `INSERT INTO authz_relationships (resource_type, resource_id, relation, subject_type, subject_id)
             SELECT 'task', 'tsk_' || lpad(g::text, 26, '0'), e.relation, e.subject_type,
                    CASE e.relation WHEN 'account' THEN $1 WHEN 'owner' THEN $2 ELSE ($3::text[])[1 + g % 4] END
             FROM generate_series(1, $4::int) AS g
             CROSS JOIN (VALUES ('account', 'account'), ('owner', 'user'), ('parent_agent', 'agent'))
               AS e(relation, subject_type)`,
          [accountId, principalSubject(admin).id, bigAgents, bulkTasks],
        ),
      ),
    ]);
    const built = Date.now();
    for (const id of grantedBulk) {
      const grant = await asAdmin("POST", `/v1/tasks/${id}/grants`, {
        subject: { type: "user", id: viewer.id },
        relation: "viewer",
      });
      expect(grant.status).toBe(200);
    }
    // Through the API: two by the admin (one canceled), two by the shared agent's editor.
    const apiIds = [
      await createTask(t.client, admin, shared, { type: "email" }),
      await createTask(t.client, admin, shared, { type: "summarize" }),
      await createTask(t.client, editor, shared, { type: "email" }),
      await createTask(t.client, editor, shared, { type: "crawl" }),
    ];
    expect((await asAdmin("POST", `/v1/tasks/${apiIds[1]}/cancel`, { reason: "test" })).status).toBe(200);
    const analyzing = Date.now();
    await withSession(t.database, (session) => session.query("ANALYZE tasks, authz_relationships"));
    const counted = await queryRows<{ n: number }>(
      t.database,
      "SELECT count(*)::int AS n FROM tasks WHERE account_id = $1",
      [accountId],
    );
    expect(counted[0]?.n).toBe(totalTasks);
    readable = await queryRows<Row>(
      t.database,
      "SELECT id, state, agent_id, type, creator_user_id FROM tasks WHERE id = ANY($1) ORDER BY id DESC",
      [[...grantedBulk, ...apiIds]],
    );
    expect(readable).toHaveLength(10);
    console.log(
      `built in ${built - started} ms (${timings.join("; ")}); ANALYZE ${Date.now() - analyzing} ms`,
    );
  }, 900_000);

  /** Lists as `who`, returning the answer and the list statement it sent (with its parameters). */
  async function list(who: TestPrincipal, query: string) {
    captured.length = 0;
    const response = await callAs(t.client, who)("GET", `/v1/tasks${query}`);
    expect(response.status, response.text).toBe(200);
    const statement = captured.find((s) => /\bFROM tasks\b/.test(s.text) && /ORDER BY id DESC/.test(s.text));
    if (!statement) throw new Error(`no list statement among ${captured.length}`);
    const body = response.body as { items: { id: string }[]; next_cursor: string | null };
    return { ids: body.items.map((item) => item.id), next: body.next_cursor, statement };
  }

  async function expectBounded(statement: CapturedStatement, label: string) {
    for (const mode of ["custom", "generic"] as const) {
      const plan = await explainAnalyze(t.database, statement, mode);
      console.log(
        `${label} (${mode}): ${plan.rowsExamined} rows, ${plan.buffers} buffers; ${plan.scans.join(", ")}`,
      );
      expect(
        plan.scans.filter((scan) => scan.startsWith("Seq Scan")),
        `${label} ${mode}`,
      ).toEqual([]);
      expect(plan.rowsExamined, `${label} ${mode}`).toBeLessThan(1_000);
      expect(plan.buffers, `${label} ${mode}`).toBeLessThan(2_000);
    }
  }

  const idsWhere = (keep: (row: Row) => boolean) => readable.filter(keep).map((row) => row.id);

  it("answers the viewer exactly its 10 tasks, reading what it may see and not the account", async () => {
    const { ids, next, statement } = await list(viewer, "?limit=50");
    expect(ids).toEqual(readable.map((row) => row.id));
    expect(next).toBeNull();
    expect(statement.text).toContain("authz_relationships");
    await expectBounded(statement, "viewer, no filter");
  }, 120_000);

  it("pages the viewer's tasks with the cursor, each page bounded", async () => {
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(viewer, `?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...page.ids);
      sizes.push(page.ids.length);
      if (page.next) await expectBounded(page.statement, `viewer, page after ${seen.length}`);
      cursor = page.next;
    } while (cursor);
    expect(sizes).toEqual([3, 3, 3, 1]);
    expect(seen).toEqual(readable.map((row) => row.id));
  }, 120_000);

  it("filters the viewer's tasks by state, agent, type and creator, each bounded", async () => {
    const cases: [string, string[]][] = [
      ["?state=submitted", idsWhere((row) => row.state === "submitted")],
      ["?state=input_required,failed", idsWhere((row) => ["input_required", "failed"].includes(row.state))],
      [`?agent_id=${shared}`, idsWhere((row) => row.agent_id === shared)],
      [`?agent_id=${bigAgents[1]}`, idsWhere((row) => row.agent_id === bigAgents[1])],
      ["?type=email", idsWhere((row) => row.type === "email")],
      [
        `?created_by=user:${encodeURIComponent(editor.id)}`,
        idsWhere((row) => row.creator_user_id === editor.id),
      ],
      [
        `?agent_id=${shared}&type=email&state=submitted`,
        idsWhere((row) => row.agent_id === shared && row.type === "email" && row.state === "submitted"),
      ],
    ];
    for (const [query, expected] of cases) {
      const { ids, statement } = await list(viewer, query);
      expect(ids, query).toEqual(expected);
      await expectBounded(statement, `viewer ${query}`);
    }
    // The filters really narrow: every case but the combined one has answers, none has all 10.
    expect(cases.slice(0, -1).every(([, expected]) => expected.length > 0 && expected.length < 10)).toBe(
      true,
    );
  }, 120_000);

  it("keeps the admin's first pages bounded: a scan of the newest rows, and the state index", async () => {
    const first = await list(admin, "?limit=50");
    expect(first.ids).toHaveLength(50);
    expect(first.ids).toEqual(first.ids.toSorted().toReversed());
    expect(first.statement.text).not.toContain("CROSS JOIN LATERAL");
    await expectBounded(first.statement, "admin, first page");

    const waiting = await list(admin, "?state=input_required&limit=50");
    // g % 50,000 = 7: 7, 50,007, …, 950,007.
    expect(waiting.ids).toHaveLength(20);
    await expectBounded(waiting.statement, "admin, state=input_required");

    // Two states: each state's newest rows, merged, not every task in either state.
    const several = await list(admin, "?state=input_required,failed&limit=50");
    expect(several.ids).toHaveLength(50);
    expect(several.ids).toEqual(several.ids.toSorted().toReversed());
    await expectBounded(several.statement, "admin, state=input_required,failed");

    const ofAgent = await list(admin, `?agent_id=${bigAgents[2]}&limit=50`);
    expect(ofAgent.ids).toHaveLength(50);
    await expectBounded(ofAgent.statement, "admin, one agent");
  }, 120_000);

  it("gives the shared agent's editor its 4 tasks, also without a scan", async () => {
    const { ids, statement } = await list(editor, "?limit=50");
    expect(ids).toEqual(idsWhere((row) => row.agent_id === shared));
    await expectBounded(statement, "editor, no filter");
  }, 120_000);
});
