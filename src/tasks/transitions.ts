// The task transitions people and workers ask for over HTTP (DESIGN §4). Each runs as one
// statement; only when it changes nothing does a follow-up read decide which answer is right.
import { type SQL, sql } from "drizzle-orm";
import { assertPermitted } from "../authz/probe.ts";
import { ConflictError } from "../errors/domain-error.ts";
import type { ServiceContext } from "../lib/service-context.ts";
import { assertPayloadSize } from "./payload-limits.ts";
import { type TaskView, toTaskView } from "./record.ts";
import { probeTask, type TaskProbe } from "./repo.ts";
import { actorOf } from "./service.ts";
import { isTerminal, type TerminalState, type TransitionName, transitions } from "./states.ts";
import { applyTransition, type LeaseCondition, recordStaleLease } from "./transition-repo.ts";

/** A worker's fencing token; absent when a person drives an unleased task. */
export interface LeaseToken {
  worker_id?: string | undefined;
  epoch?: number | undefined;
}

interface TransitionSpec {
  name: TransitionName;
  permission: "update" | "cancel";
  lease: LeaseCondition;
  set: SQL;
  eventType: string;
  data: unknown;
  /** For terminal transitions: the state reached and how to compare the re-sent payload. */
  terminal?: { state: TerminalState; samePayload: SQL };
}

const json = (value: unknown) => sql`${JSON.stringify(value ?? null)}::jsonb`;

export function leaseOf(token: LeaseToken): LeaseCondition {
  if (token.worker_id === undefined) return "unleased";
  return { workerId: token.worker_id, epoch: token.epoch ?? -1 };
}

async function transition(ctx: ServiceContext, id: string, spec: TransitionSpec): Promise<TaskView> {
  const accountId = ctx.principal.accountId;
  const allowed = await ctx.access.filter("task", spec.permission, sql`tasks.id`, [id]);
  const row = await applyTransition(ctx.db, {
    accountId,
    id,
    from: transitions[spec.name].from,
    lease: spec.lease,
    allowed,
    set: spec.set,
    event: { type: spec.eventType, actor: actorOf(ctx), data: spec.data },
  });
  if (row) {
    ctx.access.observe("task", spec.permission, [id]);
    return toTaskView(row);
  }
  const probe = await probeTask(
    ctx.db,
    accountId,
    { id },
    await ctx.access.filter("task", "read", sql`tasks.id`, [id]),
    allowed,
    spec.terminal?.samePayload,
  );
  assertPermitted(probe);
  return explainNoChange(ctx, probe as TaskProbe, spec);
}

/** For statements outside this module: why a permitted, fenced write on the task changed nothing. */
export async function explainRejected(
  ctx: ServiceContext,
  id: string,
  permission: "update",
  spec: Pick<TransitionSpec, "name" | "lease">,
  fallback = "The task changed concurrently; retry.",
): Promise<never> {
  const probe = await probeTask(
    ctx.db,
    ctx.principal.accountId,
    { id },
    await ctx.access.filter("task", "read", sql`tasks.id`, [id]),
    await ctx.access.filter("task", permission, sql`tasks.id`, [id]),
  );
  assertPermitted(probe);
  await explainNoChange(ctx, probe as TaskProbe, spec);
  throw new ConflictError("invalid_state", fallback, { state: probe?.state });
}

/** Why a permitted transition changed nothing: a terminal state, the lease, or the state. */
async function explainNoChange(
  ctx: ServiceContext,
  probe: TaskProbe,
  spec: Pick<TransitionSpec, "name" | "lease" | "terminal">,
): Promise<TaskView> {
  if (isTerminal(probe.state)) {
    if (spec.terminal?.state === probe.state) {
      if (probe.same_payload) return toTaskView(probe);
      throw new ConflictError(
        "result_conflict",
        `The task is already ${probe.state} with a different outcome.`,
        {
          state: probe.state,
        },
      );
    }
    throw new ConflictError("task_terminal", `The task is ${probe.state} and can no longer change.`, {
      state: probe.state,
    });
  }
  const startable = (transitions[spec.name].from as readonly string[]).includes(probe.state);
  const lease = spec.lease;
  if (typeof lease === "object") {
    // The lease is lost unless the worker still owns this very epoch and it has not expired.
    const ownsEpoch = probe.lease_owner === lease.workerId && Number(probe.lease_epoch) === lease.epoch;
    if (!ownsEpoch || !probe.lease_live) {
      await recordStaleLease(ctx.db, ctx.principal.accountId, probe.id, actorOf(ctx), {
        workerId: lease.workerId,
        epoch: lease.epoch,
        action: spec.name,
      });
      throw new ConflictError(
        "lease_lost",
        "This lease is no longer valid: expired, released or taken over.",
        {
          state: probe.state,
        },
      );
    }
  } else if (lease === "unleased" && startable && probe.lease_owner !== null) {
    throw new ConflictError("lease_held", "A worker holds this task's lease; send its worker_id and epoch.", {
      state: probe.state,
    });
  }
  throw new ConflictError("invalid_state", `Not allowed while the task is ${probe.state}.`, {
    state: probe.state,
  });
}

export function reportProgress(ctx: ServiceContext, id: string, progress: unknown, token: LeaseToken) {
  return transition(ctx, id, {
    name: "progress",
    permission: "update",
    lease: leaseOf(token),
    set: sql`state = 'working', progress = ${json(progress)}`,
    eventType: "progress",
    data: { progress },
  });
}

export function requireInput(ctx: ServiceContext, id: string, prompt: unknown, token: LeaseToken) {
  return transition(ctx, id, {
    name: "input_required",
    permission: "update",
    lease: leaseOf(token),
    set: sql`state = 'input_required', input_request = jsonb_build_object('prompt', ${json(prompt)}),
             input_response = NULL, lease_owner = NULL, lease_expires_at = NULL`,
    eventType: "input_required",
    data: { prompt },
  });
}

export function provideInput(ctx: ServiceContext, id: string, input: unknown) {
  assertPayloadSize("input", input);
  return transition(ctx, id, {
    name: "input",
    permission: "update",
    lease: "any",
    set: sql`state = 'submitted', input_response = ${json(input)}`,
    eventType: "input_received",
    data: { input },
  });
}

export function completeTask(ctx: ServiceContext, id: string, result: unknown, token: LeaseToken) {
  assertPayloadSize("result", result);
  return transition(ctx, id, {
    name: "complete",
    permission: "update",
    lease: leaseOf(token),
    set: sql`state = 'completed', result = ${json(result)}, finished_at = now(), lease_expires_at = NULL`,
    eventType: "completed",
    data: null,
    terminal: { state: "completed", samePayload: sql`result = ${json(result)}` },
  });
}

// Steps recorded for undoing and not yet undone.
const hasPendingSteps = sql`EXISTS (SELECT 1 FROM task_compensations c WHERE c.task_id = t.id AND c.status = 'pending')`;

/**
 * Fails the task: back to the queue while `retryable` and attempts remain; otherwise to
 * `compensating` when steps are pending (it never reaches `failed` with steps left), else `failed`.
 */
export function failTask(
  ctx: ServiceContext,
  id: string,
  error: unknown,
  retryable: boolean,
  token: LeaseToken,
) {
  assertPayloadSize("error", error);
  const retry = sql`(${retryable}::boolean AND t.attempts < t.max_attempts)`;
  const next = sql`CASE WHEN ${retry} THEN 'submitted'::task_state
    WHEN ${hasPendingSteps} THEN 'compensating'::task_state ELSE 'failed'::task_state END`;
  return transition(ctx, id, {
    name: "fail",
    permission: "update",
    lease: leaseOf(token),
    set: sql`state = ${next}, error = ${json(error)},
             finished_at = CASE WHEN ${next} = 'failed' THEN now() END,
             lease_owner = CASE WHEN ${next} = 'failed' THEN t.lease_owner END,
             lease_expires_at = NULL`,
    eventType: "failed",
    data: { error, retryable },
    terminal: { state: "failed", samePayload: sql`error = ${json(error)}` },
  });
}

/** Gives the lease back: the task is claimable again and the attempt is not counted. */
export function releaseLease(ctx: ServiceContext, id: string, token: Required<LeaseToken>) {
  return transition(ctx, id, {
    name: "release",
    permission: "update",
    lease: leaseOf(token),
    set: sql`state = CASE WHEN t.state = 'compensating' THEN 'compensating'::task_state ELSE 'submitted'::task_state END,
             lease_owner = NULL, lease_expires_at = NULL,
             attempts = CASE WHEN t.state = 'compensating' THEN t.attempts ELSE greatest(t.attempts - 1, 0) END,
             compensation_attempts = CASE WHEN t.state = 'compensating'
               THEN greatest(t.compensation_attempts - 1, 0) ELSE t.compensation_attempts END`,
    eventType: "lease_released",
    data: null,
  });
}

export function cancelTask(ctx: ServiceContext, id: string, reason: string) {
  return transition(ctx, id, {
    name: "cancel",
    permission: "cancel",
    lease: "any",
    set: sql`state = 'canceled', cancel_reason = ${reason}, finished_at = now()`,
    eventType: "canceled",
    data: { reason },
    terminal: { state: "canceled", samePayload: sql`cancel_reason IS NOT DISTINCT FROM ${reason}` },
  });
}
