// Reading PostgreSQL's EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) output in tests: what a
// statement really read, not how long it took.
import { connectSession } from "../../scripts/local/database-url.ts";
import { openDatabase } from "../../src/db/client.ts";
import type { AppOverrides } from "../../src/http/app-env.ts";
import { queryRows } from "./graph.ts";
import type { TestDatabase } from "./test-database.ts";

export interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Actual Rows": number;
  "Actual Loops": number;
  "Rows Removed by Filter"?: number;
  "Rows Removed by Index Recheck"?: number;
  "Shared Hit Blocks"?: number;
  "Shared Read Blocks"?: number;
  Plans?: PlanNode[];
}

export interface PlanSummary {
  /** Rows read from tables and indexes, over every loop, including those a filter then removed. */
  rowsExamined: number;
  /** Shared buffers touched (hit or read) by the whole statement. */
  buffers: number;
  /** `Node Type on relation` for every scan of a table (or its index). */
  scans: string[];
  plan: PlanNode;
}

function walk(node: PlanNode, visit: (node: PlanNode) => void) {
  visit(node);
  for (const child of node.Plans ?? []) walk(child, visit);
}

export function summarizePlan(plan: PlanNode): PlanSummary {
  let rowsExamined = 0;
  const scans: string[] = [];
  walk(plan, (node) => {
    if (node["Relation Name"] === undefined) return;
    const read =
      node["Actual Rows"] +
      (node["Rows Removed by Filter"] ?? 0) +
      (node["Rows Removed by Index Recheck"] ?? 0);
    rowsExamined += read * node["Actual Loops"];
    scans.push(`${node["Node Type"]} on ${node["Relation Name"]}`);
  });
  return {
    rowsExamined,
    buffers: (plan["Shared Hit Blocks"] ?? 0) + (plan["Shared Read Blocks"] ?? 0),
    scans,
    plan,
  };
}

/**
 * Runs the statement under EXPLAIN ANALYZE, with a plan made for its parameter values (`custom`)
 * or the generic plan a warm connection switches to after a few runs of a named statement.
 */
export async function explainAnalyze(
  database: TestDatabase,
  statement: { text: string; params: unknown[] },
  mode: "custom" | "generic" = "custom",
): Promise<PlanSummary> {
  const options = "ANALYZE, BUFFERS, FORMAT JSON";
  const rows =
    mode === "custom"
      ? await queryRows<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(
          database,
          `EXPLAIN (${options}) ${statement.text}`,
          statement.params,
        )
      : await explainGeneric(database, statement, options);
  const plan = rows[0]?.["QUERY PLAN"][0]?.Plan;
  if (!plan) throw new Error("EXPLAIN returned no plan");
  return summarizePlan(plan);
}

async function explainGeneric(
  database: TestDatabase,
  statement: { text: string; params: unknown[] },
  options: string,
) {
  const literal = (value: unknown) =>
    value === null
      ? "NULL"
      : typeof value === "number"
        ? String(value)
        : `'${String(value).replaceAll("'", "''")}'`;
  // One session: the prepared statement and the plan cache setting live in it.
  const session = await connectSession(database.url, database.proxy);
  try {
    await session.query("SET plan_cache_mode = force_generic_plan");
    await session.query(`PREPARE listed AS ${statement.text}`);
    const result = await session.query(
      `EXPLAIN (${options}) EXECUTE listed(${statement.params.map(literal).join(", ")})`,
    );
    return result.rows as { "QUERY PLAN": [{ Plan: PlanNode }] }[];
  } finally {
    await session.end();
  }
}

export interface CapturedStatement {
  text: string;
  params: unknown[];
}

/** App overrides that record every statement the app sends, with its parameters. */
export function capturingStatements(into: CapturedStatement[]): AppOverrides {
  return {
    openDatabase: (settings, onError) =>
      openDatabase(settings, onError, { statement: (statement) => void into.push(statement) }),
  };
}
