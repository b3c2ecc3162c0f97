// Agent API keys (DESIGN §2): the key's principal is a service account whose id is the key's id,
// written as a `worker` of the agent, so the key can claim and drive that agent's tasks and
// nothing else. Key row and edges are created together and removed together.
import { probeAgent } from "../agents/repo.ts";
import { type Grant, guard } from "../authz/guard.ts";
import { type ObjectRef, type Relationship, registrationEdges } from "../authz/model.ts";
import { principalSubject } from "../authz/subjects.ts";
import { NotFoundError } from "../errors/domain-error.ts";
import { idempotent } from "../idempotency/service.ts";
import { createdByView, creatorColumns } from "../lib/creator.ts";
import { newId } from "../lib/ids.ts";
import { type Page, toPage } from "../lib/pagination.ts";
import type { ServiceContext } from "../lib/service-context.ts";
import { createRegistered } from "../resources/create-path.ts";
import {
  type AgentKeyRecord,
  insertAgentKeyIfAllowed,
  listAgentKeys,
  revokeAgentKey,
} from "./agent-key-repo.ts";
import { issueToken } from "./token.ts";

export function toAgentKeyView(row: AgentKeyRecord) {
  return {
    id: row.id,
    agent_id: row.agent_id,
    principal: { type: "service_account" as const, id: row.id },
    created_by: createdByView(row),
    created_at: new Date(row.created_at).toISOString(),
    revoked_at: row.revoked_at ? new Date(row.revoked_at).toISOString() : null,
  };
}

export type AgentKeyView = ReturnType<typeof toAgentKeyView>;

const keyPrincipal = (accountId: string, keyId: string) =>
  ({ accountId, type: "service_account", id: keyId }) as const;

function workerEdge(accountId: string, agentId: string, keyId: string): Relationship {
  return {
    resourceType: "agent",
    resourceId: agentId,
    relation: "worker",
    subject: principalSubject(keyPrincipal(accountId, keyId)),
  };
}

/** What an agent key is in the graph: the `api_key` resource and its service account. */
export function agentKeyObjects(accountId: string, keyId: string): ObjectRef[] {
  return [
    { type: "api_key", id: keyId },
    { type: "service_account", id: principalSubject(keyPrincipal(accountId, keyId)).id },
  ];
}

/** Agent keys are the agent's to manage: every verb here needs `manage` on it. */
const onAgent = (agentId: string) => ({ type: "agent", permission: "manage", ids: [agentId] }) as const;

/** The agent is missing or unreadable (404), or the caller may not manage it (403). */
async function refuseUnlessManageable(ctx: ServiceContext, agentId: string, grant: Grant) {
  grant.refuseUnless(
    await probeAgent(ctx.db, ctx.principal.accountId, agentId, await grant.readable(), grant.allowed),
  );
}

/**
 * Creates the key, its `api_key` registration and the agent's `worker` edge in one transaction.
 * The plaintext key is in the first response only: a replay with the same Idempotency-Key
 * answers the same key with `key: null`, because responses kept for replay never hold secrets.
 */
export async function createAgentKey(
  ctx: ServiceContext,
  agentId: string,
  idempotencyKey: string | undefined,
) {
  const { accountId } = ctx.principal;
  const id = newId("key");
  const { token, secretHash } = await issueToken(id);
  const edges = [
    ...(ctx.access.registers("api_key")
      ? registrationEdges({ type: "api_key", id, accountId, owner: ctx.principal, parentAgentId: agentId })
      : []),
    ...(ctx.access.registers("agent") ? [workerEdge(accountId, agentId, id)] : []),
  ];
  const outcome = await guard(ctx, onAgent(agentId), (grant) => {
    const request = { operation: "create_agent_key", idempotencyKey, body: { agent_id: agentId } };
    return createRegistered(
      ctx,
      edges,
      idempotent(ctx.principal, request, async (tx) => {
        const row = await insertAgentKeyIfAllowed(
          tx,
          { id, accountId, agentId, secretHash, creator: creatorColumns(ctx.principal) },
          grant.allowed,
        );
        if (!row) {
          await refuseUnlessManageable(ctx, agentId, grant);
          throw new NotFoundError();
        }
        return toAgentKeyView(row);
      }),
    );
  });
  return { ...outcome, body: { ...outcome.body, key: outcome.replayed ? null : token } };
}

export function listKeysOfAgent(ctx: ServiceContext, agentId: string, page: Page) {
  return guard(ctx, onAgent(agentId), async (grant) => {
    const rows = await listAgentKeys(
      ctx.db,
      ctx.principal.accountId,
      agentId,
      grant.allowed,
      page.limit,
      page.before,
    );
    if (rows.length === 0) await refuseUnlessManageable(ctx, agentId, grant);
    return toPage(rows.map(toAgentKeyView), page.limit);
  });
}

/** Revokes the key at once (its next request is 401) and removes every edge naming it. */
export function deleteAgentKey(ctx: ServiceContext, agentId: string, keyId: string): Promise<void> {
  const { accountId } = ctx.principal;
  return guard(ctx, onAgent(agentId), async (grant) => {
    const revoked = await ctx.authorizer.deleteRegistered((deregister) =>
      ctx.db.transaction(async (tx) => {
        const row = await revokeAgentKey(tx, accountId, agentId, keyId, grant.allowed);
        if (row) {
          await deregister(tx, agentKeyObjects(accountId, keyId));
        }
        return row;
      }),
    );
    if (!revoked) {
      await refuseUnlessManageable(ctx, agentId, grant);
      throw new NotFoundError();
    }
  });
}
