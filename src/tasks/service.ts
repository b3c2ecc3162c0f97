import { sql } from "drizzle-orm";
import { type GrantInput, grantEdge } from "../authz/grants.ts";
import { assertPermitted } from "../authz/probe.ts";
import { NotFoundError } from "../errors/domain-error.ts";
import { type Page, toPage } from "../lib/pagination.ts";
import type { ServiceContext } from "../lib/service-context.ts";
import { type TaskView, toTaskEventView, toTaskView } from "./record.ts";
import { deleteTask, findTask, listTasks, probeTask, type TaskFilters, type TaskLookup } from "./repo.ts";
import { insertAuditNote, listTaskEvents } from "./transition-repo.ts";

export const actorOf = (ctx: ServiceContext) => ({ type: ctx.principal.type, id: ctx.principal.id });
/** The filter for a request about one task (by id, the graph checks just it); lists use `listScope`. */
const visible = (ctx: ServiceContext, permission: string, by: TaskLookup) =>
  ctx.access.filter("task", permission, sql`tasks.id`, "id" in by ? [by.id] : undefined);

export async function getTask(ctx: ServiceContext, by: TaskLookup): Promise<TaskView> {
  const row = await findTask(ctx.db, ctx.principal.accountId, by, await visible(ctx, "read", by));
  if (!row) throw new NotFoundError();
  ctx.access.observe("task", "read", [row.id]);
  return toTaskView(row);
}

export async function listVisibleTasks(ctx: ServiceContext, filters: TaskFilters, page: Page) {
  const rows = await listTasks(
    ctx.db,
    ctx.principal.accountId,
    filters,
    await ctx.access.listScope("task", "read", sql`tasks.id`),
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
  const allowed = await visible(ctx, "delete", by);
  const deletedId = await ctx.authorizer.deleteRegistered((deregister) =>
    ctx.db.transaction(async (tx) => {
      const id = await deleteTask(tx, ctx.principal.accountId, by, allowed);
      if (id) await deregister(tx, [{ type: "task", id }]);
      return id;
    }),
  );
  if (!deletedId) {
    assertPermitted(
      await probeTask(ctx.db, ctx.principal.accountId, by, await visible(ctx, "read", by), allowed),
    );
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
      await visible(ctx, "read", { id }),
      await visible(ctx, "manage", { id }),
    ),
  );
  await ctx.db.transaction((tx) => ctx.authorizer.writeEdges(tx, remove ? [] : [edge], remove ? [edge] : []));
  ctx.access.observe("task", "manage", [id]);
  return { resource: { type: "task", id }, relation: grant.relation, subject: grant.subject };
}

export async function addAuditNote(ctx: ServiceContext, id: string, note: string) {
  const allowed = await visible(ctx, "update", { id });
  const event = await insertAuditNote(ctx.db, ctx.principal.accountId, id, allowed, actorOf(ctx), note);
  if (!event) {
    assertPermitted(
      await probeTask(ctx.db, ctx.principal.accountId, { id }, await visible(ctx, "read", { id }), allowed),
    );
    throw new NotFoundError();
  }
  ctx.access.observe("task", "update", [id]);
  return toTaskEventView(event);
}

export async function taskEvents(ctx: ServiceContext, id: string, after: number, limit: number) {
  const rows = await listTaskEvents(
    ctx.db,
    ctx.principal.accountId,
    id,
    await visible(ctx, "read", { id }),
    after,
    limit,
  );
  // Every task has its `created` event, so no rows on the first page means not visible.
  if (rows.length === 0 && after === 0) throw new NotFoundError();
  if (rows.length === 0) await getTask(ctx, { id });
  const items = rows.slice(0, limit).map(toTaskEventView);
  const last = items.at(-1);
  return { items, next_cursor: rows.length > limit && last ? String(last.id) : null };
}
