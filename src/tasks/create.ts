// Creating tasks, one or a batch: both are the same statement (rows and `created` events) under
// one agent, registered in the graph with them, all or none, idempotent. On the postgres backend
// without an Idempotency-Key the edges are part of that statement too (one round trip); otherwise
// it runs in the create path's transaction (register → persist → settle).
import { type SQL, sql } from "drizzle-orm";
import { probeAgent } from "../agents/repo.ts";
import { authenticated } from "../auth/caller.ts";
import { guard } from "../authz/guard.ts";
import { registrationEdges, registrationEdgesOf } from "../authz/model.ts";
import type { Executor } from "../db/client.ts";
import { foreignKeyViolation, sqlState, uniqueViolation } from "../db/pg-error.ts";
import { ConflictError, NotFoundError } from "../errors/domain-error.ts";
import { type CreateOutcome, idempotent } from "../idempotency/service.ts";
import { newId } from "../lib/ids.ts";
import type { ServiceContext } from "../lib/service-context.ts";
import { createRegistered } from "../resources/create-path.ts";
import { type InsertedBatch, insertTaskBatch } from "./batch-repo.ts";
import { assertPayloadSize } from "./payload-limits.ts";
import { type TaskView, toTaskView } from "./record.ts";

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
  const rows = tasks.map((task) => ({
    id: newId("tsk"),
    type: task.type,
    name: task.name ?? null,
    input: task.input ?? null,
    metadata: task.metadata ?? {},
    priority: task.priority ?? 0,
    max_attempts: task.max_attempts ?? ctx.config.defaultMaxAttempts,
  }));
  return guard(ctx, { type: "agent", permission: "create_task", ids: [agentId] }, async (grant) => {
    const created = async (db: Executor, result: InsertedBatch) => {
      if (result.tasks.length === rows.length) return respond(result.tasks.map(toTaskView));
      if (!result.agentUsable) {
        const readable = await grant.readable();
        grant.refuseUnless(await probeAgent(db, ctx.principal.accountId, agentId, readable, grant.allowed));
      }
      throw new NotFoundError();
    };
    try {
      const { edgesInStatement } = ctx.authorizer;
      if (request.idempotencyKey === undefined && edgesInStatement) {
        // The graph shares the database: rows, events and edges are one statement, one round trip.
        const edges = ctx.access.registers("task")
          ? (from: SQL) => edgesInStatement(from, statementEdges(ctx))
          : undefined;
        const body = await created(
          ctx.db,
          await insertTaskBatch(ctx, { agentId, rows, edges }, grant.allowed),
        );
        return { status: 201, body, replayed: false };
      }
      const principal = await authenticated(ctx);
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
      return await createRegistered(
        ctx,
        edges,
        idempotent(principal, request, async (tx) =>
          created(
            tx,
            await insertTaskBatch({ db: tx, caller: ctx.caller }, { agentId, rows }, grant.allowed),
          ),
        ),
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

/** The registration edges of each row of `inserted`, owned by the statement's caller. */
const statementEdges = (ctx: ServiceContext) =>
  registrationEdgesOf<SQL>({
    type: "task",
    id: sql`inserted.id`,
    accountId: sql`inserted.account_id`,
    owner: ctx.caller.subject,
    parentAgentId: sql`inserted.agent_id`,
  });

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
