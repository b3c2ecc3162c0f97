// Creating tasks, one or a batch: both are the same statement (rows and `created` events) under
// one agent, registered in the graph in the same transaction, all or none, idempotent.
import { sql } from "drizzle-orm";
import { probeAgent } from "../agents/repo.ts";
import { guard } from "../authz/guard.ts";
import { registrationEdges } from "../authz/model.ts";
import { foreignKeyViolation, sqlState, uniqueViolation } from "../db/pg-error.ts";
import { ConflictError, NotFoundError } from "../errors/domain-error.ts";
import { type CreateOutcome, idempotent } from "../idempotency/service.ts";
import { creatorColumns } from "../lib/creator.ts";
import { newId } from "../lib/ids.ts";
import type { ServiceContext } from "../lib/service-context.ts";
import { createRegistered } from "../resources/create-path.ts";
import { insertTaskBatch } from "./batch-repo.ts";
import { assertPayloadSize } from "./payload-limits.ts";
import { type TaskView, toTaskView } from "./record.ts";
import { actorOf } from "./service.ts";

export const maxBatchSize = 1000;

export interface NewTaskInput {
  type: string;
  name?: string | undefined;
  input?: unknown;
  metadata?: Record<string, unknown> | undefined;
  max_attempts?: number | undefined;
  priority?: number | undefined;
}

export type CreateTaskInput = NewTaskInput & { agent_id: string };
export interface CreateTaskBatchInput {
  agent_id: string;
  tasks: NewTaskInput[];
}

async function createUnderAgent<T>(
  ctx: ServiceContext,
  agentId: string,
  tasks: NewTaskInput[],
  request: { operation: string; idempotencyKey: string | undefined; body: unknown },
  respond: (views: TaskView[]) => T,
): Promise<CreateOutcome<T>> {
  for (const task of tasks) assertPayloadSize("input", task.input);
  const { principal } = ctx;
  const rows = tasks.map((task) => ({
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
          parentAgentId: agentId,
        }),
      )
    : [];
  return guard(ctx, { type: "agent", permission: "create_task", ids: [agentId] }, async (grant) => {
    try {
      return await createRegistered(
        ctx,
        edges,
        idempotent(principal, request, async (tx) => {
          const inserted = await insertTaskBatch(
            tx,
            {
              accountId: principal.accountId,
              agentId,
              rows,
              creator: creatorColumns(principal),
              actor: actorOf(ctx),
            },
            grant.allowed,
          );
          if (inserted.length !== rows.length) {
            const readable = await grant.readable();
            grant.refuseUnless(await probeAgent(tx, principal.accountId, agentId, readable, grant.allowed));
            throw new NotFoundError();
          }
          return respond(inserted.map(toTaskView));
        }),
      );
    } catch (error) {
      if (sqlState(error) === uniqueViolation) {
        throw new ConflictError(
          "name_taken",
          "A task name is already taken in the account (or repeated in the batch).",
        );
      }
      // The agent was deleted between the check and the insert.
      if (sqlState(error) === foreignKeyViolation) throw new NotFoundError();
      throw error;
    }
  });
}

export function createTask(ctx: ServiceContext, input: CreateTaskInput, idempotencyKey: string | undefined) {
  const { agent_id, ...task } = input;
  return createUnderAgent(
    ctx,
    agent_id,
    [task],
    { operation: "create_task", idempotencyKey, body: input },
    ([view]) => view as TaskView,
  );
}

export function createTaskBatch(
  ctx: ServiceContext,
  input: CreateTaskBatchInput,
  idempotencyKey: string | undefined,
) {
  return createUnderAgent(
    ctx,
    input.agent_id,
    input.tasks,
    { operation: "create_task_batch", idempotencyKey, body: input },
    (items) => ({ items }),
  );
}
