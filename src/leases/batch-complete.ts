// Completing a claimed batch in one request (ADR 0009): one statement completes every task whose
// lease still holds; each one left over is answered exactly as POST /v1/tasks/{id}/complete would.
import { guard } from "../authz/guard.ts";
import { errorCatalog } from "../errors/catalog.ts";
import { DomainError, ValidationError } from "../errors/domain-error.ts";
import type { ServiceContext } from "../lib/service-context.ts";
import { assertPayloadSize } from "../tasks/payload-limits.ts";
import { type TaskView, toTaskView } from "../tasks/record.ts";
import { completeLeasedTasks } from "./batch-complete-repo.ts";
import { completeTask } from "./transitions.ts";

export const maxBatchCompletions = 100;

export interface Completion {
  id: string;
  worker_id: string;
  epoch: number;
  result?: unknown;
}

export type CompletionOutcome =
  | { id: string; task: TaskView }
  | { id: string; error: { status: number; code: string; title: string; detail: string; state?: string } };

function assertDistinct(items: Completion[]): void {
  const seen = new Set<string>();
  const errors = items.flatMap((item, index) => {
    if (!seen.has(item.id)) {
      seen.add(item.id);
      return [];
    }
    return [{ location: "body" as const, pointer: `/items/${index}/id`, message: "Listed twice." }];
  });
  if (errors.length > 0) throw new ValidationError(errors);
}

export async function completeBatch(ctx: ServiceContext, items: Completion[]) {
  assertDistinct(items);
  for (const item of items) assertPayloadSize("result", item.result);
  const ids = items.map((item) => item.id);
  const rows = await guard(ctx, { type: "task", permission: "update", ids }, async (grant) => {
    const completed = await completeLeasedTasks(ctx, {
      items: items.map((item) => ({
        id: item.id,
        workerId: item.worker_id,
        epoch: item.epoch,
        result: item.result,
      })),
      allowed: grant.allowed,
    });
    grant.acted(completed.map((row) => row.id));
    return completed;
  });
  const completed = new Map(rows.map((row) => [row.id, row]));
  const outcomes: CompletionOutcome[] = [];
  for (const item of items) {
    const row = completed.get(item.id);
    outcomes.push(row ? { id: item.id, task: toTaskView(row) } : await completeOne(ctx, item));
  }
  return { items: outcomes };
}

// The rare leftover (lost lease, already completed, not found) takes the single-task path, which
// is idempotent and explains a refusal, so both endpoints answer the same.
async function completeOne(ctx: ServiceContext, item: Completion): Promise<CompletionOutcome> {
  try {
    return { id: item.id, task: await completeTask(ctx, item.id, item.result, item) };
  } catch (error) {
    if (!(error instanceof DomainError) || errorCatalog[error.code].status >= 500) throw error;
    const { status, title } = errorCatalog[error.code];
    const state = typeof error.extensions.state === "string" ? error.extensions.state : undefined;
    return {
      id: item.id,
      error: { status, code: error.code, title, detail: error.detail, ...(state ? { state } : {}) },
    };
  }
}
