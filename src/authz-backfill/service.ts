import { membershipEdge, type Relationship, registrationEdges } from "../authz/model.ts";
import { principalSubject } from "../authz/subjects.ts";
import { creatorOf } from "../lib/creator.ts";
import type { OperatorContext } from "../lib/service-context.ts";
import { agentBatch, agentKeyBatch, keyBatch, scheduleBatch, taskBatch } from "./repo.ts";

/**
 * What each type's rows register: agents, tasks and schedules their account, owner and parent
 * agent; `account` the memberships of account keys; `api_key` each agent key's registration and
 * its service account as the agent's `worker` (as src/api-keys/agent-keys.ts creates them).
 */
export const backfillTypes = ["agent", "task", "schedule", "account", "api_key"] as const;
export type BackfillType = (typeof backfillTypes)[number];

export interface BackfillReport {
  resource_type: BackfillType;
  scanned: number;
  edges: number;
  /** Pass back as `after` to continue; null when this type is done. */
  next_cursor: string | null;
}

async function edgesFor(ctx: OperatorContext, type: BackfillType, after: string, limit: number) {
  if (type === "account") {
    const rows = await keyBatch(ctx.db, after, limit);
    const edges = rows.map((row) =>
      membershipEdge({ accountId: row.account_id, type: row.principal_type, id: row.principal_id }, row.role),
    );
    return { ids: rows.map((row) => row.id), edges };
  }
  const batches = { agent: agentBatch, task: taskBatch, schedule: scheduleBatch, api_key: agentKeyBatch };
  const rows = await batches[type](ctx.db, after, limit);
  const edges: Relationship[] = rows.flatMap((row) => [
    ...registrationEdges({
      type,
      id: row.id,
      accountId: row.account_id,
      owner: creatorOf(row),
      parentAgentId: row.agent_id ?? undefined,
    }),
    ...(type === "api_key" && row.agent_id
      ? [
          {
            resourceType: "agent" as const,
            resourceId: row.agent_id,
            relation: "worker",
            subject: principalSubject({ accountId: row.account_id, type: "service_account", id: row.id }),
          },
        ]
      : []),
  ]);
  return { ids: rows.map((row) => row.id), edges };
}

/**
 * Registers one batch of existing rows of a type in the graph — the edges a create would have
 * written. Idempotent (existing edges are left alone), so it can be re-run and resumed anywhere.
 */
export async function backfillBatch(
  ctx: OperatorContext,
  type: BackfillType,
  after: string,
  limit: number,
): Promise<BackfillReport> {
  const { ids, edges } = await edgesFor(ctx, type, after, limit);
  // No transaction around it: SpiceDB is never called with one open, and the postgres backend's
  // insert is one statement.
  await ctx.authorizer.writeEdges(ctx.db, edges, []);
  return {
    resource_type: type,
    scanned: ids.length,
    edges: edges.length,
    next_cursor: ids.length === limit ? (ids.at(-1) ?? null) : null,
  };
}

/** Runs every batch of a type (for scripts; the admin route does one batch per call). */
export async function backfillAll(ctx: OperatorContext, type: BackfillType, limit = 1000): Promise<number> {
  let after = "";
  let scanned = 0;
  for (;;) {
    const report = await backfillBatch(ctx, type, after, limit);
    scanned += report.scanned;
    if (!report.next_cursor) return scanned;
    after = report.next_cursor;
  }
}
