import { sql } from "drizzle-orm";
import { createRegisteredIdempotently } from "../authz/create-registered.ts";
import { registrationEdges } from "../authz/model.ts";
import { assertPermitted } from "../authz/probe.ts";
import { ConflictError, NotFoundError } from "../errors/domain-error.ts";
import type { CreateOutcome } from "../idempotency/service.ts";
import { creatorColumns } from "../lib/creator.ts";
import { newId } from "../lib/ids.ts";
import type { ServiceContext } from "../lib/service-context.ts";
import { type TaskView, toTaskView } from "./record.ts";
import { insertRedrive } from "./redrive-repo.ts";
import { probeTask } from "./repo.ts";
import { actorOf } from "./service.ts";

const redrivable = ["failed", "quarantined"];

/** A fresh task with the same agent, type, input and limits; the original stays as it was. */
export async function redriveTask(
  ctx: ServiceContext,
  sourceId: string,
  idempotencyKey: string | undefined,
): Promise<CreateOutcome<TaskView>> {
  const accountId = ctx.principal.accountId;
  const allowed = await ctx.access.filter("task", "update", sql`tasks.id`, [sourceId]);
  const source = await probeTask(
    ctx.db,
    accountId,
    { id: sourceId },
    await ctx.access.filter("task", "read", sql`tasks.id`, [sourceId]),
    allowed,
  );
  assertPermitted(source);
  if (!source || !redrivable.includes(source.state)) {
    throw new ConflictError("invalid_state", "Only failed or quarantined tasks can be redriven.", {
      state: source?.state,
    });
  }
  const id = newId("tsk");
  const edges = ctx.access.registers("task")
    ? registrationEdges({ type: "task", id, accountId, owner: ctx.principal, parentAgentId: source.agent_id })
    : [];
  return createRegisteredIdempotently(
    ctx,
    { operation: `redrive:${sourceId}`, idempotencyKey, body: {} },
    edges,
    async (tx) => {
      const row = await insertRedrive(tx, {
        id,
        accountId,
        sourceId,
        allowed,
        creator: creatorColumns(ctx.principal),
        actor: actorOf(ctx),
      });
      if (!row) throw new NotFoundError();
      return toTaskView(row);
    },
  );
}
