import { sql } from "drizzle-orm";
import { probeAgent } from "../agents/repo.ts";
import { createRegisteredIdempotently } from "../authz/create-registered.ts";
import { type GrantInput, grantEdge } from "../authz/grants.ts";
import { registrationEdges } from "../authz/model.ts";
import { assertPermitted } from "../authz/probe.ts";
import { foreignKeyViolation, sqlState, uniqueViolation } from "../db/pg-error.ts";
import { ConflictError, NotFoundError } from "../errors/domain-error.ts";
import type { CreateOutcome } from "../idempotency/service.ts";
import { creatorColumns } from "../lib/creator.ts";
import { newId } from "../lib/ids.ts";
import { type Page, toPage } from "../lib/pagination.ts";
import type { ServiceContext } from "../lib/service-context.ts";
import { assertPayloadSize } from "./payload-limits.ts";
import { type TaskRecord, type TaskView, toTaskEventView, toTaskView } from "./record.ts";
import {
  deleteTask,
  findTask,
  insertTaskIfAllowed,
  listTasks,
  probeTask,
  type TaskFilters,
  type TaskLookup,
} from "./repo.ts";
import { insertAuditNote, listTaskEvents } from "./transition-repo.ts";

export interface CreateTaskInput {
  agent_id: string;
  type: string;
  name?: string | undefined;
  input?: unknown;
  metadata?: Record<string, unknown> | undefined;
  max_attempts?: number | undefined;
  priority?: number | undefined;
}

export const actorOf = (ctx: ServiceContext) => ({ type: ctx.principal.type, id: ctx.principal.id });
const visible = (ctx: ServiceContext, permission = "read") =>
  ctx.access.filter("task", permission, sql`tasks.id`);

/** Creates a task under an agent the caller may create tasks on; fail-closed with its edges. */
export async function createTask(
  ctx: ServiceContext,
  input: CreateTaskInput,
  idempotencyKey: string | undefined,
): Promise<CreateOutcome<TaskView>> {
  assertPayloadSize("input", input.input);
  const { principal } = ctx;
  const id = newId("tsk");
  const edges = ctx.access.registers("task")
    ? registrationEdges({
        type: "task",
        id,
        accountId: principal.accountId,
        owner: principal,
        parentAgentId: input.agent_id,
      })
    : [];
  const allowedOnAgent = await ctx.access.filter("agent", "create_task", sql`agents.id`);
  try {
    return await createRegisteredIdempotently(
      ctx,
      { operation: "create_task", idempotencyKey, body: input },
      edges,
      async (tx) => {
        const row = await insertTaskIfAllowed(
          tx,
          {
            id,
            accountId: principal.accountId,
            agentId: input.agent_id,
            type: input.type,
            name: input.name ?? null,
            input: input.input,
            metadata: input.metadata ?? {},
            priority: input.priority ?? 0,
            maxAttempts: input.max_attempts ?? ctx.config.defaultMaxAttempts,
            ...creatorColumns(principal),
            actor: actorOf(ctx),
          },
          allowedOnAgent,
        );
        if (!row) {
          const readable = await ctx.access.filter("agent", "read", sql`agents.id`);
          assertPermitted(
            await probeAgent(tx, principal.accountId, input.agent_id, readable, allowedOnAgent),
          );
          throw new NotFoundError();
        }
        ctx.access.observe("agent", "create_task", [input.agent_id]);
        return toTaskView(row);
      },
    );
  } catch (error) {
    if (sqlState(error) === uniqueViolation) {
      throw new ConflictError("name_taken", "A task with this name already exists in the account.");
    }
    // The agent was deleted between the check and the insert.
    if (sqlState(error) === foreignKeyViolation) throw new NotFoundError();
    throw error;
  }
}

export async function getTask(ctx: ServiceContext, by: TaskLookup): Promise<TaskView> {
  const row = await findTask(ctx.db, ctx.principal.accountId, by, await visible(ctx));
  if (!row) throw new NotFoundError();
  ctx.access.observe("task", "read", [row.id]);
  return toTaskView(row);
}

export async function listVisibleTasks(ctx: ServiceContext, filters: TaskFilters, page: Page) {
  const rows = await listTasks(
    ctx.db,
    ctx.principal.accountId,
    filters,
    await visible(ctx),
    page.limit,
    page.before,
  );
  const result = toPage(rows.map(toTaskView), page.limit);
  ctx.access.observe(
    "task",
    "read",
    result.items.map((item) => item.id),
  );
  return result;
}

/** Deletes a task, its events and every edge naming it, in one transaction. */
export async function removeTask(ctx: ServiceContext, by: TaskLookup): Promise<void> {
  const allowed = await visible(ctx, "delete");
  const deletedId = await ctx.authorizer.deleteRegistered((deregister) =>
    ctx.db.transaction(async (tx) => {
      const id = await deleteTask(tx, ctx.principal.accountId, by, allowed);
      if (id) await deregister(tx, [{ type: "task", id }]);
      return id;
    }),
  );
  if (!deletedId) {
    assertPermitted(await probeTask(ctx.db, ctx.principal.accountId, by, await visible(ctx), allowed));
    throw new NotFoundError();
  }
  ctx.access.observe("task", "delete", [deletedId]);
}

export async function changeTaskGrant(ctx: ServiceContext, id: string, grant: GrantInput, remove: boolean) {
  const edge = grantEdge(ctx.principal, "task", id, grant);
  assertPermitted(
    await probeTask(
      ctx.db,
      ctx.principal.accountId,
      { id },
      await visible(ctx),
      await visible(ctx, "manage"),
    ),
  );
  await ctx.db.transaction((tx) => ctx.authorizer.writeEdges(tx, remove ? [] : [edge], remove ? [edge] : []));
  ctx.access.observe("task", "manage", [id]);
  return { resource: { type: "task", id }, relation: grant.relation, subject: grant.subject };
}

export async function addAuditNote(ctx: ServiceContext, id: string, note: string) {
  const allowed = await visible(ctx, "update");
  const event = await insertAuditNote(ctx.db, ctx.principal.accountId, id, allowed, actorOf(ctx), note);
  if (!event) {
    assertPermitted(await probeTask(ctx.db, ctx.principal.accountId, { id }, await visible(ctx), allowed));
    throw new NotFoundError();
  }
  ctx.access.observe("task", "update", [id]);
  return toTaskEventView(event);
}

export async function taskEvents(ctx: ServiceContext, id: string, after: number, limit: number) {
  const rows = await listTaskEvents(ctx.db, ctx.principal.accountId, id, await visible(ctx), after, limit);
  // Every task has its `created` event, so no rows on the first page means not visible.
  if (rows.length === 0 && after === 0) throw new NotFoundError();
  if (rows.length === 0) await getTask(ctx, { id });
  const items = rows.slice(0, limit).map(toTaskEventView);
  const last = items.at(-1);
  return { items, next_cursor: rows.length > limit && last ? String(last.id) : null };
}
