import { sql } from "drizzle-orm";
import { probeAgent } from "../agents/repo.ts";
import { createRegisteredIdempotently } from "../authz/create-registered.ts";
import { registrationEdges } from "../authz/model.ts";
import { assertPermitted } from "../authz/probe.ts";
import { foreignKeyViolation, sqlState, uniqueViolation } from "../db/pg-error.ts";
import { ConflictError, NotFoundError } from "../errors/domain-error.ts";
import type { CreateOutcome } from "../idempotency/service.ts";
import { creatorColumns } from "../lib/creator.ts";
import { newId } from "../lib/ids.ts";
import type { ServiceContext } from "../lib/service-context.ts";
import { insertTaskBatch } from "./batch-repo.ts";
import { assertPayloadSize } from "./payload-limits.ts";
import { type TaskView, toTaskView } from "./record.ts";
import { actorOf, type CreateTaskInput } from "./service.ts";

export const maxBatchSize = 1000;

export interface CreateTaskBatchInput {
  agent_id: string;
  tasks: Omit<CreateTaskInput, "agent_id">[];
}

/** Creates up to 1,000 tasks under one agent: all or none, with their edges, in one transaction. */
export async function createTaskBatch(
  ctx: ServiceContext,
  input: CreateTaskBatchInput,
  idempotencyKey: string | undefined,
): Promise<CreateOutcome<{ items: TaskView[] }>> {
  for (const task of input.tasks) assertPayloadSize("input", task.input);
  const { principal } = ctx;
  const rows = input.tasks.map((task) => ({
    id: newId("tsk"),
    type: task.type,
    name: task.name ?? null,
    input: task.input ?? null,
    metadata: task.metadata ?? {},
    priority: task.priority ?? 0,
    max_attempts: task.max_attempts ?? ctx.config.defaultMaxAttempts,
  }));
  const edges = ctx.access.registers("task")
    ? rows.flatMap((row) =>
        registrationEdges({
          type: "task",
          id: row.id,
          accountId: principal.accountId,
          owner: principal,
          parentAgentId: input.agent_id,
        }),
      )
    : [];
  const allowedOnAgent = await ctx.access.filter("agent", "create_task", sql`agents.id`);
  try {
    return await createRegisteredIdempotently(
      ctx,
      { operation: "create_task_batch", idempotencyKey, body: input },
      edges,
      async (tx) => {
        const inserted = await insertTaskBatch(
          tx,
          {
            accountId: principal.accountId,
            agentId: input.agent_id,
            rows,
            creator: creatorColumns(principal),
            actor: actorOf(ctx),
          },
          allowedOnAgent,
        );
        if (inserted.length !== rows.length) {
          const readable = await ctx.access.filter("agent", "read", sql`agents.id`);
          assertPermitted(
            await probeAgent(tx, principal.accountId, input.agent_id, readable, allowedOnAgent),
          );
          throw new NotFoundError();
        }
        ctx.access.observe("agent", "create_task", [input.agent_id]);
        return { items: inserted.map(toTaskView) };
      },
    );
  } catch (error) {
    if (sqlState(error) === uniqueViolation) {
      throw new ConflictError(
        "name_taken",
        "A task name in the batch is taken in the account (or repeated).",
      );
    }
    if (sqlState(error) === foreignKeyViolation) throw new NotFoundError();
    throw error;
  }
}
