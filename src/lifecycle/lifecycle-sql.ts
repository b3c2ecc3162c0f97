// The lifecycle tables as SQL. State names become literals in the statement's text, never
// parameters: the planner matches partial indexes (`WHERE state = 'submitted'`) only on literals.
import { type SQL, sql } from "drizzle-orm";
import {
  type Condition,
  type Rule,
  type StepStatus,
  stepStatuses,
  type TaskState,
  taskStates,
  type VerbName,
  verbTable,
} from "./task-lifecycle.ts";

const byState = <K extends string>(keys: readonly K[], render: (key: K) => string) =>
  Object.fromEntries(keys.map((key) => [key, sql.raw(render(key))])) as Record<K, SQL>;

/** `'submitted'::task_state`, for expressions. */
export const stateSql = byState(taskStates, (state) => `'${state}'::task_state`);
/** `'submitted'`, as drizzle-kit writes index predicates in the schema. */
export const stateText = byState(taskStates, (state) => `'${state}'`);
/** `'pending'::compensation_status`. */
export const stepStatusSql = byState(
  stepStatuses,
  (status: StepStatus) => `'${status}'::compensation_status`,
);

/** `column IN (...)` over the given states (`column = ...` for one). */
export function stateIn(column: SQL, states: readonly TaskState[], render = stateSql): SQL {
  if (states.length === 0) return sql`FALSE`;
  if (states.length === 1) return sql`${column} = ${render[states[0] as TaskState]}`;
  return sql`${column} IN (${sql.join(
    states.map((state) => render[state]),
    sql`, `,
  )})`;
}

/** The verb's event type as an SQL literal. */
export const eventTypeSql = (verb: VerbName) => sql.raw(`'${verbTable[verb].event}'`);

/**
 * The state a verb moves each row to, as one CASE over its rules in table order (a bare literal
 * when every rule ends in the same state). `conditions` gives the SQL of each condition a rule
 * names; a rule whose condition is missing is an error, so the table and the SQL cannot drift.
 */
export function nextStateSql(
  verb: VerbName,
  column: SQL,
  conditions: Partial<Record<Condition, SQL>> = {},
): SQL {
  const rules: readonly Rule[] = verbTable[verb].rules;
  const targets = new Set(rules.map((rule) => rule.to));
  if (targets.size === 1) return stateSql[rules[0]?.to as TaskState];
  const arms = rules.map((rule) => {
    const parts = [stateIn(column, rule.from)];
    if (rule.when) {
      const condition = conditions[rule.when];
      if (!condition) throw new Error(`no SQL for condition ${rule.when} of ${verb}`);
      parts.push(sql`(${condition})`);
    }
    return sql`WHEN ${sql.join(parts, sql` AND `)} THEN ${stateSql[rule.to]}`;
  });
  return sql`CASE ${sql.join(arms, sql` `)} END`;
}
