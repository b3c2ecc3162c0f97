import { sql } from "drizzle-orm";
import { agentKeyObjects } from "../api-keys/agent-keys.ts";
import { type GrantInput, grantEdge } from "../authz/grants.ts";
import { type Grant, guard, guardList } from "../authz/guard.ts";
import { registrationEdges } from "../authz/model.ts";
import { sqlState, uniqueViolation } from "../db/pg-error.ts";
import { ConflictError, NotFoundError } from "../errors/domain-error.ts";
import { type CreateOutcome, idempotent } from "../idempotency/service.ts";
import { createdByView, creatorColumns } from "../lib/creator.ts";
import { newId } from "../lib/ids.ts";
import { type Page, toPage } from "../lib/pagination.ts";
import type { ServiceContext } from "../lib/service-context.ts";
import { createRegistered } from "../resources/create-path.ts";
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

export function createAgent(
  ctx: ServiceContext,
  input: CreateAgentInput,
  idempotencyKey: string | undefined,
): Promise<CreateOutcome<AgentView>> {
  const { principal } = ctx;
  const id = newId("agt");
  const edges = ctx.access.registers("agent")
    ? registrationEdges({ type: "agent", id, accountId: principal.accountId, owner: principal })
    : [];
  const need = {
    type: "account",
    permission: "create_agent",
    ids: [principal.accountId],
  } as const;
  return guard(ctx, need, async (grant) => {
    try {
      return await createRegistered(
        ctx,
        edges,
        idempotent(principal, { operation: "create_agent", idempotencyKey, body: input }, async (tx) => {
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
            grant.allowed,
          );
          // Any principal can read its own account, so a refusal here is a 403, not a 404.
          grant.refuseUnless({ readable: true, permitted: row !== undefined });
          return toAgentView(row as AgentRecord);
        }),
      );
    } catch (error) {
      if (sqlState(error) === uniqueViolation) {
        throw new ConflictError("name_taken", "An agent with this name already exists in the account.");
      }
      throw error;
    }
  });
}

const onAgent = (permission: string, id: string) => ({ type: "agent", permission, ids: [id] }) as const;

export function getAgent(ctx: ServiceContext, id: string): Promise<AgentView> {
  return guard(ctx, onAgent("read", id), async (grant) => {
    const row = await findAgent(ctx.db, ctx.principal.accountId, id, grant.allowed);
    if (!row) throw new NotFoundError();
    return toAgentView(row);
  });
}

export function listVisibleAgents(ctx: ServiceContext, page: Page) {
  return guardList(ctx, { type: "agent", permission: "read" }, async (scope, acted) => {
    const rows = await listAgents(ctx.db, ctx.principal.accountId, scope, page.limit, page.before);
    const result = toPage(rows.map(toAgentView), page.limit);
    acted(result.items.map((item) => item.id));
    return result;
  });
}

async function refuseUnlessFound(ctx: ServiceContext, id: string, grant: Grant) {
  grant.refuseUnless(
    await probeAgent(ctx.db, ctx.principal.accountId, id, await grant.readable(), grant.allowed),
  );
}

/** Deletes an agent, its finished tasks and its schedules with every edge naming them; refuses while work is live. */
export function deleteAgent(ctx: ServiceContext, id: string): Promise<void> {
  return guard(ctx, onAgent("manage", id), async (grant) => {
    const outcome = await ctx.authorizer.deleteRegistered((deregister) =>
      ctx.db.transaction(async (tx) => {
        const deletion = await deleteAgentUnlessBusy(tx, ctx.principal.accountId, id, grant.allowed);
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
    if (!outcome.found) await refuseUnlessFound(ctx, id, grant);
    if (outcome.busy) {
      throw new ConflictError("agent_has_live_tasks", "The agent still has tasks that are not finished.");
    }
  });
}

/** Adds (or with `remove`, takes away) an editor, viewer or worker of the agent. Idempotent. */
export function changeAgentGrant(ctx: ServiceContext, id: string, grantInput: GrantInput, remove: boolean) {
  const edge = grantEdge(ctx.principal, "agent", id, grantInput);
  return guard(ctx, onAgent("manage", id), async (grant) => {
    await refuseUnlessFound(ctx, id, grant);
    await ctx.db.transaction((tx) =>
      ctx.authorizer.writeEdges(tx, remove ? [] : [edge], remove ? [edge] : []),
    );
    return { resource: { type: "agent", id }, relation: grantInput.relation, subject: grantInput.subject };
  });
}
