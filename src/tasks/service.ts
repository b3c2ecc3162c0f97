import type { SQL } from "drizzle-orm";
import { type GrantInput, grantEdge } from "../authz/grants.ts";
import { type Grant, guard, guardList } from "../authz/guard.ts";
import { NotFoundError } from "../errors/domain-error.ts";
import { type Page, toPage } from "../lib/pagination.ts";
import type { ServiceContext } from "../lib/service-context.ts";
import { insertAuditNote, listTaskEvents } from "./event-repo.ts";
import { type TaskView, toTaskEventView, toTaskView } from "./record.ts";
import {
  deleteTask,
  findTask,
  listTasks,
  probeTask,
  type TaskFilters,
  type TaskLookup,
  type TaskProbe,
} from "./repo.ts";

export const actorOf = (ctx: ServiceContext) => ({ type: ctx.principal.type, id: ctx.principal.id });
/**
 * After a statement under `grant` changed nothing: the task as the caller may know it, or the
 * 404 (missing, foreign, unreadable) / 403 (readable, not permitted). `samePayload` rides along.
 */
export async function probeUnder(
  ctx: ServiceContext,
  grant: Grant,
  by: TaskLookup,
  samePayload?: SQL,
): Promise<TaskProbe> {
  const probe = await probeTask(
    ctx.db,
    ctx.principal.accountId,
    by,
    await grant.readable(),
    grant.allowed,
    samePayload,
  );
  grant.refuseUnless(probe);
  return probe as TaskProbe;
}

/** A need on one task: by id, the graph checks just it; by name, it cannot know the id yet. */
const onTask = (permission: string, by: TaskLookup) =>
  ({ type: "task", permission, ...("id" in by ? { ids: [by.id] } : {}) }) as const;

export function getTask(ctx: ServiceContext, by: TaskLookup): Promise<TaskView> {
  return guard(ctx, onTask("read", by), async (grant) => {
    const row = await findTask(ctx, by, grant.allowed);
    if (!row) throw new NotFoundError();
    grant.acted([row.id]);
    return toTaskView(row);
  });
}

export function listVisibleTasks(ctx: ServiceContext, filters: TaskFilters, page: Page) {
  return guardList(ctx, { type: "task", permission: "read" }, async (scope, acted) => {
    const rows = await listTasks(ctx.db, ctx.principal.accountId, filters, scope, page.limit, page.before);
    const result = toPage(rows.map(toTaskView), page.limit);
    acted(result.items.map((item) => item.id));
    return result;
  });
}

/** Deletes a task, its events and every edge naming it, in one transaction. */
export function removeTask(ctx: ServiceContext, by: TaskLookup): Promise<void> {
  return guard(ctx, onTask("delete", by), async (grant) => {
    const deletedId = await ctx.authorizer.deleteRegistered((deregister) =>
      ctx.db.transaction(async (tx) => {
        const id = await deleteTask(tx, ctx.principal.accountId, by, grant.allowed);
        if (id) await deregister(tx, [{ type: "task", id }]);
        return id;
      }),
    );
    if (!deletedId) {
      await probeUnder(ctx, grant, by);
      throw new NotFoundError();
    }
    grant.acted([deletedId]);
  });
}

export function changeTaskGrant(ctx: ServiceContext, id: string, grantInput: GrantInput, remove: boolean) {
  const edge = grantEdge(ctx.principal, "task", id, grantInput);
  return guard(ctx, onTask("manage", { id }), async (grant) => {
    await probeUnder(ctx, grant, { id });
    await ctx.db.transaction((tx) =>
      ctx.authorizer.writeEdges(tx, remove ? [] : [edge], remove ? [edge] : []),
    );
    return { resource: { type: "task", id }, relation: grantInput.relation, subject: grantInput.subject };
  });
}

export function addAuditNote(ctx: ServiceContext, id: string, note: string) {
  return guard(ctx, onTask("update", { id }), async (grant) => {
    const event = await insertAuditNote(
      ctx.db,
      ctx.principal.accountId,
      id,
      grant.allowed,
      actorOf(ctx),
      note,
    );
    if (!event) {
      await probeUnder(ctx, grant, { id });
      throw new NotFoundError();
    }
    return toTaskEventView(event);
  });
}

export function taskEvents(ctx: ServiceContext, id: string, after: number, limit: number) {
  return guard(ctx, onTask("read", { id }), async (grant) => {
    const rows = await listTaskEvents(ctx.db, ctx.principal.accountId, id, grant.allowed, after, limit);
    // Every task has its `created` event, so no rows on the first page means not visible.
    if (rows.length === 0 && after === 0) throw new NotFoundError();
    if (rows.length === 0) await getTask(ctx, { id });
    const items = rows.slice(0, limit).map(toTaskEventView);
    const last = items.at(-1);
    return { items, next_cursor: rows.length > limit && last ? String(last.id) : null };
  });
}
