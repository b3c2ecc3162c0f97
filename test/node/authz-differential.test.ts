// Our SQL evaluation of authz/schema.zed against real SpiceDB on random relationship graphs:
// every check must agree, and so must every reverse lookup (which resources may a subject
// reach), both as a set and as the pages a driven list reads.
import { readFileSync } from "node:fs";
import { type SQL, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schemaZed } from "../../src/authz/schema-source.generated.ts";
import { permissionPredicate } from "../../src/authz/sql-compiler.ts";
import { compileLookup, drivenPage, lookupIds } from "../../src/authz/sql-lookup.ts";
import { parseZedSchema } from "../../src/authz/zed-parser.ts";
import { type DatabaseHandle, openDatabase } from "../../src/db/client.ts";
import { type Check, schemaZedPath, startSpiceDb, type Tuple } from "../support/embedded-spicedb.ts";
import { seededRandom } from "../support/seeded-random.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-database.ts";

const schema = parseZedSchema(schemaZed);

function randomGraph(seed: number) {
  const next = seededRandom(seed);
  const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)] as T;
  const subjects = [
    ...Array.from({ length: 5 }, (_, i) => ({ type: "user", id: `acc_a/dXNlci${i}` })),
    ...Array.from({ length: 4 }, (_, i) => ({ type: "service_account", id: `acc_a/c3Zj${i}` })),
  ];
  const accounts = ["acc_a", "acc_b"];
  const agents = Array.from({ length: 5 }, (_, i) => `agt_${i}`);
  const children: Record<string, string[]> = {
    task: Array.from({ length: 10 }, (_, i) => `tsk_${i}`),
    schedule: Array.from({ length: 3 }, (_, i) => `sch_${i}`),
    api_key: Array.from({ length: 3 }, (_, i) => `key_${i}`),
  };
  const tuples: Tuple[] = [];
  const add = (
    resourceType: string,
    resourceId: string,
    relation: string,
    subject: { type: string; id: string },
  ) => tuples.push({ resourceType, resourceId, relation, subjectType: subject.type, subjectId: subject.id });
  const sprinkle = (type: string, id: string, relations: string[], chance: number) => {
    for (const relation of relations) {
      const allowed = schema[type]?.relations[relation]?.subjectTypes ?? [];
      for (const subject of subjects)
        if (allowed.includes(subject.type) && next() < chance) add(type, id, relation, subject);
    }
  };
  for (const account of accounts) sprinkle("account", account, ["admin", "member"], 0.2);
  for (const agent of agents) {
    if (next() < 0.85) add("agent", agent, "account", { type: "account", id: pick(accounts) });
    sprinkle("agent", agent, ["owner", "editor", "viewer", "worker"], 0.15);
  }
  for (const [type, ids] of Object.entries(children)) {
    for (const id of ids) {
      if (next() < 0.85) add(type, id, "account", { type: "account", id: pick(accounts) });
      if (next() < 0.85) add(type, id, "parent_agent", { type: "agent", id: pick(agents) });
      sprinkle(
        type,
        id,
        Object.keys(schema[type]?.relations ?? {}).filter((r) => r !== "account" && r !== "parent_agent"),
        0.12,
      );
    }
  }
  const resources: Record<string, string[]> = { account: accounts, agent: agents, ...children };
  const checks: Check[] = [];
  for (const [type, ids] of Object.entries(resources)) {
    const definition = schema[type];
    const names = [
      ...Object.keys(definition?.permissions ?? {}),
      ...Object.keys(definition?.relations ?? {}),
    ];
    for (const id of ids) {
      for (const permission of names) {
        for (const subject of subjects) {
          checks.push({
            resourceType: type,
            resourceId: id,
            permission,
            subjectType: subject.type,
            subjectId: subject.id,
          });
        }
      }
    }
  }
  // Duplicates would be rejected by SpiceDB's write and are meaningless for the graph.
  const unique = [...new Map(tuples.map((t) => [JSON.stringify(t), t])).values()];
  return { tuples: unique, checks, subjects, resources };
}

/** Every (resource type, permission or relation, subject) a lookup can be asked about. */
function lookupQuestions(subjects: { type: string; id: string }[]) {
  return Object.entries(schema).flatMap(([type, definition]) =>
    [...Object.keys(definition.permissions), ...Object.keys(definition.relations)].flatMap((permission) =>
      subjects.map((subject) => ({ type, permission, subject })),
    ),
  );
}

async function inParallel<T, R>(items: T[], width: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await run(items[i] as T);
  };
  await Promise.all(Array.from({ length: width }, lane));
  return results;
}

/** The set form and the paged form (pages of `take`, following the cursor) of one lookup. */
async function sqlLookup(
  handle: DatabaseHandle,
  question: { type: string; permission: string; subject: { type: string; id: string } },
  take: number,
) {
  const lookup = compileLookup(schema, question.type, question.permission, question.subject);
  const set = await handle.db.execute<{ id: string }>(sql`SELECT id FROM (${lookupIds(lookup)}) ids(id)`);
  const paged: string[] = [];
  let before: string | undefined;
  for (let page = 0; page < 50; page++) {
    const result = await handle.db.execute<{ id: string }>(
      drivenPage(lookup, { row: (id) => sql`SELECT ${id} AS id`, before, take }),
    );
    paged.push(...result.rows.map((row) => row.id));
    if (result.rows.length < take) break;
    before = result.rows.at(-1)?.id;
  }
  return { set: set.rows.map((row) => row.id), paged };
}

async function loadGraph(handle: DatabaseHandle, tuples: Tuple[]) {
  await handle.db.execute(sql`TRUNCATE authz_relationships`);
  await handle.db.execute(
    sql`INSERT INTO authz_relationships (resource_type, resource_id, relation, subject_type, subject_id)
        VALUES ${sql.join(
          tuples.map(
            (t) => sql`(${t.resourceType}, ${t.resourceId}, ${t.relation}, ${t.subjectType}, ${t.subjectId})`,
          ),
          sql`, `,
        )}`,
  );
}

async function sqlAnswers(handle: DatabaseHandle, checks: Check[]): Promise<boolean[]> {
  const groups = new Map<string, number[]>();
  checks.forEach((check, index) => {
    const key = JSON.stringify([check.resourceType, check.permission, check.subjectType, check.subjectId]);
    groups.set(key, [...(groups.get(key) ?? []), index]);
  });
  const answers: boolean[] = new Array(checks.length);
  for (const indexes of groups.values()) {
    const first = checks[indexes[0] as number] as Check;
    const predicate = permissionPredicate(schema, first.resourceType, first.permission, sql`r.id`, {
      type: first.subjectType,
      id: first.subjectId,
    });
    const values: SQL = sql.join(
      indexes.map((i) => sql`(${checks[i]?.resourceId}::text, ${i}::int)`),
      sql`, `,
    );
    const result = await handle.db.execute<{ i: number; allowed: boolean }>(
      sql`SELECT r.i, ${predicate} AS allowed FROM (VALUES ${values}) AS r(id, i)`,
    );
    for (const row of result.rows) answers[row.i] = row.allowed;
  }
  return answers;
}

describe("SQL authorization agrees with SpiceDB", () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  beforeAll(async () => {
    database = await createTestDatabase();
    handle = openDatabase({ databaseUrl: database.url, databaseWsProxy: database.proxy }, () => {});
  });
  afterAll(async () => {
    await handle.close();
    await database.drop();
  });

  it("embeds authz/schema.zed verbatim (run `npm run authz:generate` after editing it)", () => {
    expect(schemaZed).toBe(readFileSync(schemaZedPath, "utf8"));
  });

  it("gives the same answer on at least 10,000 checks over random graphs", async () => {
    let total = 0;
    const disagreements: string[] = [];
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const { tuples, checks } = randomGraph(seed);
      await loadGraph(handle, tuples);
      const spicedb = await startSpiceDb(tuples);
      try {
        const expected = await spicedb.check(checks);
        const actual = await sqlAnswers(handle, checks);
        checks.forEach((check, i) => {
          if (expected[i] !== actual[i]) {
            disagreements.push(
              `seed ${seed}: ${JSON.stringify(check)} spicedb=${expected[i]} sql=${actual[i]}`,
            );
          }
        });
        expect(expected.filter(Boolean).length, `seed ${seed} grants something`).toBeGreaterThan(0);
        total += checks.length;
      } finally {
        spicedb.close();
      }
    }
    expect(disagreements.slice(0, 10)).toEqual([]);
    expect(total).toBeGreaterThanOrEqual(10_000);
  }, 120_000);

  it("finds the same resources as SpiceDB's LookupResources, as a set and page by page", async () => {
    // One SpiceDB holds every seed's graph, each under its own id prefix (closing an instance that
    // served streams takes seconds); the SQL side holds one seed's graph at a time.
    const graphs = [1, 2, 3, 4, 5, 6, 7, 8].map((seed) => {
      const { tuples, subjects } = randomGraph(seed);
      const own = (id: string) => `s${seed}-${id}`;
      return {
        seed,
        tuples: tuples.map((t) => ({ ...t, resourceId: own(t.resourceId), subjectId: own(t.subjectId) })),
        subjects: subjects.map((subject) => ({ ...subject, id: own(subject.id) })),
      };
    });
    const spicedb = await startSpiceDb(graphs.flatMap((graph) => graph.tuples));
    let lookups = 0;
    let found = 0;
    const disagreements: string[] = [];
    try {
      for (const { seed, tuples, subjects } of graphs) {
        await loadGraph(handle, tuples);
        const questions = lookupQuestions(subjects);
        const answers = await inParallel(questions, 8, async (question) => ({
          expected: (await spicedb.lookup(question.type, question.permission, question.subject)).toSorted(),
          // Pages of 3 cross several branches' streams and cursors on most answers.
          actual: await sqlLookup(handle, question, 3),
        }));
        for (const [i, { expected, actual }] of answers.entries()) {
          const question = JSON.stringify(questions[i]);
          const newestFirst = expected.toReversed();
          if (JSON.stringify(actual.set.toSorted()) !== JSON.stringify(expected)) {
            disagreements.push(`seed ${seed} set: ${question} spicedb=${expected} sql=${actual.set}`);
          }
          if (JSON.stringify(actual.paged) !== JSON.stringify(newestFirst)) {
            disagreements.push(`seed ${seed} pages: ${question} spicedb=${newestFirst} sql=${actual.paged}`);
          }
          lookups++;
          found += expected.length;
        }
      }
    } finally {
      spicedb.close();
    }
    expect(disagreements.slice(0, 10)).toEqual([]);
    expect(lookups).toBeGreaterThanOrEqual(2_000);
    // The graphs grant enough for the comparison to mean something: 3,175 ids over 2,304 lookups.
    expect(found).toBeGreaterThan(lookups);
  }, 180_000);
});
