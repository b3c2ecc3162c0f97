// Why a fenced statement changed nothing, asked only after it returned zero rows: the probe
// reads the row and the caller's access once, and the lifecycle table says which 409 it is.
import { type SQL, sql } from "drizzle-orm";
import type { Grant } from "../authz/guard.ts";
import type { Executor } from "../db/client.ts";
import { ConflictError } from "../errors/domain-error.ts";
import type { ServiceContext } from "../lib/service-context.ts";
import { fromStates, isTerminal, type VerbName, verbTable } from "../lifecycle/task-lifecycle.ts";
import { eventInsert } from "../tasks/event-insert.ts";
import { type TaskView, toTaskView } from "../tasks/record.ts";
import type { TaskProbe } from "../tasks/repo.ts";
import { actorOf, probeUnder } from "../tasks/service.ts";
import type { LeaseCondition } from "./fenced-statement.ts";

export interface Refused {
  verb: VerbName;
  lease: LeaseCondition;
  /** For verbs that end the task: re-sending the same outcome answers the task as it is. */
  terminal?: { samePayload: SQL };
}

/** Probes the task under the verb's grant and throws the refusal, or returns the idempotent replay. */
export async function explainRefusal(
  ctx: ServiceContext,
  grant: Grant,
  id: string,
  refused: Refused,
  fallback?: string,
): Promise<TaskView> {
  const probe = await probeUnder(ctx, grant, { id }, refused.terminal?.samePayload);
  const replay = await explainNoChange(ctx, probe, refused);
  if (replay) return replay;
  throw new ConflictError("invalid_state", fallback ?? `Not allowed while the task is ${probe.state}.`, {
    state: probe.state,
  });
}

/** Why a permitted statement changed nothing: a terminal state, the lease, or the state. */
async function explainNoChange(ctx: ServiceContext, probe: TaskProbe, refused: Refused) {
  const { state } = probe;
  if (isTerminal(state)) {
    if (refused.terminal && endsIn(refused.verb, state)) {
      if (probe.same_payload) return toTaskView(probe);
      throw new ConflictError("result_conflict", `The task is already ${state} with a different outcome.`, {
        state,
      });
    }
    throw new ConflictError("task_terminal", `The task is ${state} and can no longer change.`, { state });
  }
  const startable = fromStates(refused.verb).includes(state);
  const lease = refused.lease;
  if (typeof lease === "object") {
    // The lease is lost unless the worker still owns this very epoch and it has not expired.
    const ownsEpoch = probe.lease_owner === lease.workerId && probe.lease_epoch === lease.epoch;
    if (!ownsEpoch || !probe.lease_live) {
      await recordStaleLease(ctx.db, ctx.principal.accountId, probe.id, actorOf(ctx), {
        workerId: lease.workerId,
        epoch: lease.epoch,
        action: refused.verb,
      });
      throw new ConflictError(
        "lease_lost",
        "This lease is no longer valid: expired, released or taken over.",
        {
          state,
        },
      );
    }
  } else if (lease === "unleased" && startable && probe.lease_owner !== null) {
    throw new ConflictError("lease_held", "A worker holds this task's lease; send its worker_id and epoch.", {
      state,
    });
  }
  return undefined;
}

const endsIn = (verb: VerbName, state: string) =>
  (verbTable[verb].rules as readonly { to: string }[]).some((rule) => rule.to === state);

/**
 * Records that a stale worker was turned away; nothing else about the task changes. The row is
 * share-locked so the event reads the committed state after any transition racing with it, and
 * takes its place in the event order after that transition's event.
 */
export async function recordStaleLease(
  db: Executor,
  accountId: string,
  id: string,
  actor: { type: string; id: string },
  attempt: { workerId: string; epoch: number; action: string },
): Promise<void> {
  await db.execute(sql`
    WITH task AS (SELECT account_id, id, state, lease_epoch FROM tasks WHERE id = ${id} AND account_id = ${accountId} FOR SHARE)
    ${eventInsert({
      from: sql`task`,
      type: { note: "stale_lease_rejected" },
      actor,
      fromState: sql`state`,
      data: sql`jsonb_build_object('worker_id', ${attempt.workerId}::text, 'epoch', ${attempt.epoch}::bigint,
                                   'action', ${attempt.action}::text)`,
    })}`);
}
