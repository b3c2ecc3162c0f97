// The task transitions asked for over HTTP (DESIGN §4): each is one fenced statement; only when
// it changes nothing does a follow-up read decide which answer is right (`refusal.ts`). The
// statement authenticates its caller itself, so a transition that succeeds is one round trip.
import { type SQL, sql } from "drizzle-orm";
import { runAsCaller } from "../auth/caller.ts";
import { guard } from "../authz/guard.ts";
import type { ServiceContext } from "../lib/service-context.ts";
import { nextStateSql, stateSql, stepStatusSql } from "../lifecycle/lifecycle-sql.ts";
import { taskState, type VerbName } from "../lifecycle/task-lifecycle.ts";
import { jsonb } from "../tasks/event-insert.ts";
import { assertPayloadSize } from "../tasks/payload-limits.ts";
import { decodeTask, type TaskRecord, type TaskView, taskColumns, toTaskView } from "../tasks/record.ts";
import { fencedParts, type LeaseCondition } from "./fenced-statement.ts";
import { explainRefusal, type Refused } from "./refusal.ts";

/** A worker's fencing token; absent when a person drives an unleased task. */
export interface LeaseToken {
  worker_id?: string | undefined;
  epoch?: number | undefined;
}

interface TransitionSpec extends Refused {
  permission: "update" | "cancel";
  set: SQL;
  data: SQL;
}

export function leaseOf(token: LeaseToken): LeaseCondition {
  if (token.worker_id === undefined) return "unleased";
  return { workerId: token.worker_id, epoch: token.epoch ?? -1 };
}

function transition(ctx: ServiceContext, id: string, spec: TransitionSpec): Promise<TaskView> {
  return guard(ctx, { type: "task", permission: spec.permission, ids: [id] }, async (grant) => {
    const {
      rows: [changed],
    } = await runAsCaller<TaskRecord>(
      ctx,
      fencedParts({
        verb: spec.verb,
        accountId: ctx.caller.accountId,
        target: { id },
        lease: spec.lease,
        allowed: grant.allowed,
        update: { set: spec.set },
        event: { actor: ctx.caller.actor, data: spec.data },
        select: sql`${taskColumns} FROM updated`,
      }),
    );
    const row = changed && decodeTask(changed);
    return row ? toTaskView(row) : explainRefusal(ctx, grant, id, spec);
  });
}

const to = (verb: VerbName) => nextStateSql(verb, sql`t.state`);

export function reportProgress(ctx: ServiceContext, id: string, progress: unknown, token: LeaseToken) {
  return transition(ctx, id, {
    verb: "progress",
    permission: "update",
    lease: leaseOf(token),
    set: sql`state = ${to("progress")}, progress = ${jsonb(progress)}`,
    data: jsonb({ progress }),
  });
}

export function requireInput(ctx: ServiceContext, id: string, prompt: unknown, token: LeaseToken) {
  return transition(ctx, id, {
    verb: "require_input",
    permission: "update",
    lease: leaseOf(token),
    set: sql`state = ${to("require_input")}, input_request = jsonb_build_object('prompt', ${jsonb(prompt)}),
             input_response = NULL, lease_owner = NULL, lease_expires_at = NULL`,
    data: jsonb({ prompt }),
  });
}

export function provideInput(ctx: ServiceContext, id: string, input: unknown) {
  assertPayloadSize("input", input);
  return transition(ctx, id, {
    verb: "input",
    permission: "update",
    lease: "any",
    set: sql`state = ${to("input")}, input_response = ${jsonb(input)}`,
    data: jsonb({ input }),
  });
}

export function completeTask(ctx: ServiceContext, id: string, result: unknown, token: LeaseToken) {
  assertPayloadSize("result", result);
  return transition(ctx, id, {
    verb: "complete",
    permission: "update",
    lease: leaseOf(token),
    set: sql`state = ${to("complete")}, result = ${jsonb(result)}, finished_at = now(), lease_expires_at = NULL`,
    data: jsonb(null),
    terminal: { samePayload: sql`result = ${jsonb(result)}` },
  });
}

/** Steps recorded for undoing and not yet undone, of the task `t`. */
export const hasPendingSteps = sql`EXISTS (SELECT 1 FROM task_compensations c WHERE c.task_id = t.id
  AND c.status = ${stepStatusSql.pending})`;

/**
 * Fails the task: back to the queue while `retryable` and attempts remain; otherwise to
 * compensation when steps are pending (it never ends failed with steps left), else failed.
 */
export function failTask(
  ctx: ServiceContext,
  id: string,
  error: unknown,
  retryable: boolean,
  token: LeaseToken,
) {
  assertPayloadSize("error", error);
  const next = nextStateSql("fail", sql`t.state`, {
    retryable: sql`${retryable}::boolean AND t.attempts < t.max_attempts`,
    pending_steps: hasPendingSteps,
  });
  const failed = stateSql[taskState.failed];
  return transition(ctx, id, {
    verb: "fail",
    permission: "update",
    lease: leaseOf(token),
    set: sql`state = ${next}, error = ${jsonb(error)},
             finished_at = CASE WHEN ${next} = ${failed} THEN now() END,
             lease_owner = CASE WHEN ${next} = ${failed} THEN t.lease_owner END,
             lease_expires_at = NULL`,
    data: jsonb({ error, retryable }),
    terminal: { samePayload: sql`error = ${jsonb(error)}` },
  });
}

/** Gives the lease back: the task is claimable again and the attempt is not counted. */
export function releaseLease(ctx: ServiceContext, id: string, token: Required<LeaseToken>) {
  const compensating = sql`t.state = ${stateSql[taskState.compensating]}`;
  return transition(ctx, id, {
    verb: "release",
    permission: "update",
    lease: leaseOf(token),
    set: sql`state = ${to("release")}, lease_owner = NULL, lease_expires_at = NULL,
             attempts = CASE WHEN ${compensating} THEN t.attempts ELSE greatest(t.attempts - 1, 0) END,
             compensation_attempts = CASE WHEN ${compensating}
               THEN greatest(t.compensation_attempts - 1, 0) ELSE t.compensation_attempts END`,
    data: jsonb(null),
  });
}

export function cancelTask(ctx: ServiceContext, id: string, reason: string) {
  return transition(ctx, id, {
    verb: "cancel",
    permission: "cancel",
    lease: "any",
    set: sql`state = ${to("cancel")}, cancel_reason = ${reason}, finished_at = now()`,
    data: jsonb({ reason }),
    terminal: { samePayload: sql`cancel_reason IS NOT DISTINCT FROM ${reason}` },
  });
}
