// The `schedules` cron job (DESIGN §7, §8 step 2): spawns due runs as tasks. Plans are made from
// rows read without locks and applied in one statement only to rows nobody changed meanwhile, so
// overlapping ticks share the work and never spawn an instant twice.
import { type Relationship, registrationEdges, rolloutFor } from "../authz/model.ts";
import { BudgetSpentError } from "../authz/spicedb/client.ts";
import type { CronDeps } from "../cron/job.ts";
import { creatorOf } from "../lib/creator.ts";
import { newId } from "../lib/ids.ts";
import { describeError } from "../observability/logger.ts";
import { createRegistered } from "../resources/create-path.ts";
import { type FiringDecision, planFiring } from "./firing-plan.ts";
import {
  applyFiringPlan,
  type DueScheduleRecord,
  type PlannedRun,
  type ScheduleAdvance,
  selectDueSchedules,
} from "./run-repo.ts";

export const scheduleBatchSize = 100;

type FiringCounts = {
  schedules: number;
  spawned: number;
  missed: number;
  buffered: number;
  unreadable: number;
};

const iso = (value: Date | null) => (value ? value.toISOString() : null);

function planBatch(deps: CronDeps, due: DueScheduleRecord[], now: Date) {
  const planned: { schedule: DueScheduleRecord; decision: FiringDecision }[] = [];
  let unreadable = 0;
  for (const schedule of due) {
    try {
      planned.push({ schedule, decision: planFiring(schedule, now) });
    } catch (error) {
      // Validated when written; only a stored expression the library no longer accepts lands here.
      unreadable++;
      deps.logger.log("error", "schedule.unreadable", { schedule_id: schedule.id, ...describeError(error) });
    }
  }
  const advances: ScheduleAdvance[] = planned.map(({ schedule, decision }) => ({
    schedule_id: schedule.id,
    account_id: schedule.account_id,
    revision: schedule.revision,
    next_fire_at: iso(decision.nextFireAt),
    last_scheduled_for: iso(decision.lastScheduledFor),
    buffered_for: iso(decision.bufferedFor),
    missed: decision.missed,
  }));
  const registers = rolloutFor(deps.config, "task") !== "off";
  const runs: PlannedRun[] = [];
  const edges: Relationship[] = [];
  for (const { schedule, decision } of planned) {
    for (const instant of decision.spawn) {
      const run = { task_id: newId("tsk"), schedule_id: schedule.id, scheduled_for: instant.toISOString() };
      runs.push(run);
      if (!registers) continue;
      edges.push(
        ...registrationEdges({
          type: "task",
          id: run.task_id,
          accountId: schedule.account_id,
          owner: creatorOf(schedule),
          parentAgentId: schedule.agent_id,
        }),
      );
    }
  }
  return { planned, advances, runs, edges, unreadable };
}

async function fireBatch(deps: CronDeps, due: DueScheduleRecord[], now: Date): Promise<FiringCounts> {
  const { planned, advances, runs, edges, unreadable } = planBatch(deps, due, now);
  const counts: FiringCounts = { schedules: 0, spawned: 0, missed: 0, buffered: 0, unreadable };
  if (advances.length === 0) return counts;
  const applied = await createRegistered(deps, edges, async (tx) => {
    const result = await applyFiringPlan(tx, advances, runs);
    // Only runs the statement spawned keep their edges: a planned run it skipped names no row.
    const spawned = new Set(result.spawned.map((run) => run.id));
    return { value: result, keep: (edge) => spawned.has(edge.resourceId) };
  });
  const appliedIds = new Set(applied.schedule_ids);
  for (const { schedule, decision } of planned) {
    if (!appliedIds.has(schedule.id)) continue;
    counts.schedules++;
    counts.missed += decision.missed;
    if (decision.bufferedFor) counts.buffered++;
  }
  counts.spawned = applied.spawned.length;
  return counts;
}

/**
 * Batches of 100 due schedules until none is left or the job's budget is spent (DESIGN §8, §14: no
 * fixed cap for all tenants together); the rest waits for the next tick. Stops too when a batch
 * is short, or applied nothing (another tick holds those rows, or nothing in it can advance).
 */
export async function fireDueSchedules(
  deps: CronDeps,
  now: Date,
): Promise<FiringCounts & { batches: number; budget_spent: number }> {
  const totals: FiringCounts = { schedules: 0, spawned: 0, missed: 0, buffered: 0, unreadable: 0 };
  let batches = 0;
  let budgetSpent = false;
  for (;;) {
    if (deps.budget.exhausted()) {
      budgetSpent = true;
      break;
    }
    const due = await selectDueSchedules(deps.db, now, scheduleBatchSize);
    if (due.length === 0) break;
    let counts: FiringCounts;
    try {
      counts = await fireBatch(deps, due, now);
    } catch (error) {
      // The budget ran out inside the batch's call to the authorization backend, before anything
      // was written: the batch waits for the next tick like the rest.
      if (!(error instanceof BudgetSpentError)) throw error;
      budgetSpent = true;
      break;
    }
    batches++;
    for (const key of Object.keys(totals) as (keyof FiringCounts)[]) totals[key] += counts[key];
    if (due.length < scheduleBatchSize || counts.schedules === 0) break;
  }
  return { ...totals, batches, budget_spent: budgetSpent ? 1 : 0 };
}
