import { sql } from "drizzle-orm";
import type { ServiceContext } from "../lib/service-context.ts";
import { appendStep, noteStepError, resolveStep } from "./compensation-repo.ts";
import { toTaskView } from "./record.ts";
import { actorOf, getTask } from "./service.ts";
import { explainRejected, leaseOf } from "./transitions.ts";

interface Token {
  worker_id: string;
  epoch: number;
}

async function fenced(ctx: ServiceContext, id: string, token: Token) {
  return {
    accountId: ctx.principal.accountId,
    id,
    workerId: token.worker_id,
    epoch: token.epoch,
    allowed: await ctx.access.filter("task", "update", sql`tasks.id`, [id]),
    actor: actorOf(ctx),
  };
}

/** The leaseholder records how to undo something it just did. */
export async function recordCompensation(
  ctx: ServiceContext,
  id: string,
  input: Token & { kind: string; target: string; payload?: unknown },
) {
  const step = await appendStep(ctx.db, await fenced(ctx, id, input), input);
  if (!step)
    return explainRejected(ctx, id, "update", { name: "record_compensation", lease: leaseOf(input) });
  ctx.access.observe("task", "update", [id]);
  return {
    seq: step.seq,
    kind: step.kind,
    target: step.target,
    payload: step.payload ?? null,
    status: step.status,
  };
}

/** Marks the newest pending step undone (`done`) or failed; retryable failures keep it pending. */
export async function resolveCompensation(
  ctx: ServiceContext,
  id: string,
  seq: number,
  outcome: "done" | "failed",
  input: Token & { result?: unknown; error?: unknown; retryable?: boolean | undefined },
) {
  const f = await fenced(ctx, id, input);
  const name = outcome === "done" ? "compensation_done" : "compensation_failed";
  if (outcome === "failed" && input.retryable) {
    const noted = await noteStepError(ctx.db, f, seq, input.error);
    if (!noted) return rejectStep(ctx, id, seq, input, name);
    ctx.access.observe("task", "update", [id]);
    return getTask(ctx, { id });
  }
  const row = await resolveStep(ctx.db, f, seq, outcome, outcome === "done" ? input.result : input.error);
  if (!row) return rejectStep(ctx, id, seq, input, name);
  ctx.access.observe("task", "update", [id]);
  return toTaskView(row);
}

/** A refused step update: the lease or state if those are wrong, else the step itself (order). */
function rejectStep(
  ctx: ServiceContext,
  id: string,
  seq: number,
  token: Token,
  name: "compensation_done" | "compensation_failed",
): Promise<never> {
  return explainRejected(
    ctx,
    id,
    "update",
    { name, lease: leaseOf(token) },
    `Step ${seq} is not the newest pending step; steps are undone in reverse order.`,
  );
}
