import { sql } from "drizzle-orm";
import { agentKeyObjects } from "../api-keys/agent-keys.ts";
import { createRegisteredIdempotently } from "../authz/create-registered.ts";
import { type GrantInput, grantEdge } from "../authz/grants.ts";
import { registrationEdges } from "../authz/model.ts";
import { assertPermitted } from "../authz/probe.ts";
import { sqlState, uniqueViolation } from "../db/pg-error.ts";
import { ConflictError, NotFoundError } from "../errors/domain-error.ts";
import type { CreateOutcome } from "../idempotency/service.ts";
import { createdByView, creatorColumns } from "../lib/creator.ts";
import { newId } from "../lib/ids.ts";
import { type Page, toPage } from "../lib/pagination.ts";
import type { ServiceContext } from "../lib/service-context.ts";
import {
  type AgentRecord,
  deleteAgentUnlessBusy,
  findAgent,
  insertAgentIfAllowed,
  listAgents,
  probeAgent,
} from "./repo.ts";

export function toAgentView(row: AgentRecord) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    metadata: row.metadata,
    created_by: createdByView(row),
    created_at: new Date(row.created_at).toISOString(),
  };
}
export type AgentView = ReturnType<typeof toAgentView>;

export interface CreateAgentInput {
  name: string;
  description?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
}

export async function createAgent(
  ctx: ServiceContext,
  input: CreateAgentInput,
  idempotencyKey: string | undefined,
): Promise<CreateOutcome<AgentView>> {
  const { principal } = ctx;
  const id = newId("agt");
  const edges = ctx.access.registers("agent")
    ? registrationEdges({ type: "agent", id, accountId: principal.accountId, owner: principal })
    : [];
  const allowed = await ctx.access.filter("account", "create_agent", sql`${principal.accountId}`, [
    principal.accountId,
  ]);
  try {
    return await createRegisteredIdempotently(
      ctx,
      { operation: "create_agent", idempotencyKey, body: input },
      edges,
      async (tx) => {
        const row = await insertAgentIfAllowed(
          tx,
          {
            id,
            accountId: principal.accountId,
            name: input.name,
            description: input.description ?? null,
            metadata: input.metadata ?? {},
            ...creatorColumns(principal),
          },
          allowed,
        );
        // Any principal can read its own account, so a refusal here is a 403, not a 404.
        assertPermitted({ readable: true, permitted: row !== undefined });
        ctx.access.observe("account", "create_agent", [principal.accountId]);
        return toAgentView(row as AgentRecord);
      },
    );
  } catch (error) {
    if (sqlState(error) === uniqueViolation) {
      throw new ConflictError("name_taken", "An agent with this name already exists in the account.");
    }
    throw error;
  }
}

export async function getAgent(ctx: ServiceContext, id: string): Promise<AgentView> {
  const row = await findAgent(
    ctx.db,
    ctx.principal.accountId,
    id,
    await ctx.access.filter("agent", "read", sql`agents.id`, [id]),
  );
  if (!row) throw new NotFoundError();
  ctx.access.observe("agent", "read", [row.id]);
  return toAgentView(row);
}

export async function listVisibleAgents(ctx: ServiceContext, page: Page) {
  const scope = await ctx.access.listScope("agent", "read", sql`agents.id`);
  const rows = await listAgents(ctx.db, ctx.principal.accountId, scope, page.limit, page.before);
  const result = toPage(rows.map(toAgentView), page.limit);
  ctx.access.observe(
    "agent",
    "read",
    result.items.map((item) => item.id),
  );
  return result;
}

async function probe(ctx: ServiceContext, id: string, permission: string) {
  return probeAgent(
    ctx.db,
    ctx.principal.accountId,
    id,
    await ctx.access.filter("agent", "read", sql`agents.id`, [id]),
    await ctx.access.filter("agent", permission, sql`agents.id`, [id]),
  );
}

/** Deletes an agent, its finished tasks and its schedules with every edge naming them; refuses while work is live. */
export async function deleteAgent(ctx: ServiceContext, id: string): Promise<void> {
  const allowed = await ctx.access.filter("agent", "manage", sql`agents.id`, [id]);
  const outcome = await ctx.authorizer.deleteRegistered((deregister) =>
    ctx.db.transaction(async (tx) => {
      const deletion = await deleteAgentUnlessBusy(tx, ctx.principal.accountId, id, allowed);
      if (deletion.found && !deletion.busy) {
        await deregister(tx, [
          { type: "agent", id },
          ...deletion.task_ids.map((taskId) => ({ type: "task" as const, id: taskId })),
          ...deletion.key_ids.flatMap((keyId) => agentKeyObjects(ctx.principal.accountId, keyId)),
          ...deletion.schedule_ids.map((scheduleId) => ({ type: "schedule" as const, id: scheduleId })),
        ]);
      }
      return deletion;
    }),
  );
  if (!outcome.found) assertPermitted(await probe(ctx, id, "manage"));
  if (outcome.busy) {
    throw new ConflictError("agent_has_live_tasks", "The agent still has tasks that are not finished.");
  }
  ctx.access.observe("agent", "manage", [id]);
}

/** Adds (or with `remove`, takes away) an editor, viewer or worker of the agent. Idempotent. */
export async function changeAgentGrant(ctx: ServiceContext, id: string, grant: GrantInput, remove: boolean) {
  const edge = grantEdge(ctx.principal, "agent", id, grant);
  const found = await probe(ctx, id, "manage");
  assertPermitted(found);
  await ctx.db.transaction((tx) => ctx.authorizer.writeEdges(tx, remove ? [] : [edge], remove ? [edge] : []));
  ctx.access.observe("agent", "manage", [id]);
  return { resource: { type: "agent", id }, relation: grant.relation, subject: grant.subject };
}
