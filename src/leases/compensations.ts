import { type Grant, guard } from "../authz/guard.ts";
import type { ServiceContext } from "../lib/service-context.ts";
import { type StepOutcome, stepStatus, type VerbName } from "../lifecycle/task-lifecycle.ts";
import { toTaskView } from "../tasks/record.ts";
import { actorOf, getTask } from "../tasks/service.ts";
import { appendStep, type Fenced, noteStepError, resolveStep } from "./compensation-repo.ts";
import { explainRefusal } from "./refusal.ts";
import { leaseOf } from "./transitions.ts";

interface Token {
  worker_id: string;
  epoch: number;
}

/** Step writes are updates of the task by its leaseholder. */
function asLeaseholder<T>(
  ctx: ServiceContext,
  id: string,
  token: Token,
  verb: (f: Fenced, grant: Grant) => Promise<T>,
): Promise<T> {
  return guard(ctx, { type: "task", permission: "update", ids: [id] }, (grant) =>
    verb(
      {
        accountId: ctx.principal.accountId,
        id,
        workerId: token.worker_id,
        epoch: token.epoch,
        allowed: grant.allowed,
        actor: actorOf(ctx),
      },
      grant,
    ),
  );
}

/** The leaseholder records how to undo something it just did. */
export function recordCompensation(
  ctx: ServiceContext,
  id: string,
  input: Token & { kind: string; target: string; payload?: unknown },
) {
  return asLeaseholder(ctx, id, input, async (f, grant) => {
    const step = await appendStep(ctx.db, f, input);
    if (!step) return rejected(ctx, grant, id, "record_compensation", input);
    return {
      seq: step.seq,
      kind: step.kind,
      target: step.target,
      payload: step.payload ?? null,
      status: step.status,
    };
  });
}

/** Marks the newest pending step undone (`done`) or failed; retryable failures keep it pending. */
export async function resolveCompensation(
  ctx: ServiceContext,
  id: string,
  seq: number,
  outcome: StepOutcome,
  input: Token & { result?: unknown; error?: unknown; retryable?: boolean | undefined },
) {
  const stepOrder = `Step ${seq} is not the newest pending step; steps are undone in reverse order.`;
  if (outcome === stepStatus.failed && input.retryable) {
    await asLeaseholder(ctx, id, input, async (f, grant) => {
      const noted = await noteStepError(ctx.db, f, seq, input.error);
      if (!noted) await rejected(ctx, grant, id, "compensation_retry", input, stepOrder);
    });
    return getTask(ctx, { id });
  }
  return asLeaseholder(ctx, id, input, async (f, grant) => {
    const detail = outcome === stepStatus.done ? input.result : input.error;
    const row = await resolveStep(ctx.db, f, seq, outcome, detail);
    const verb = outcome === stepStatus.done ? "compensation_done" : "compensation_failed";
    return row ? toTaskView(row) : rejected(ctx, grant, id, verb, input, stepOrder);
  });
}

/** A refused step write: the lease or state if those are wrong, else the step itself (`detail`). */
async function rejected(
  ctx: ServiceContext,
  grant: Grant,
  id: string,
  verb: VerbName,
  token: Token,
  detail = "The task changed concurrently; retry.",
): Promise<never> {
  await explainRefusal(ctx, grant, id, { verb, lease: leaseOf(token) }, detail);
  throw new Error("unreachable: a refusal without a terminal payload always throws");
}
