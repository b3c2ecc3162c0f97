import { sql } from "drizzle-orm";
import { guard } from "../authz/guard.ts";
import { registrationEdges } from "../authz/model.ts";
import { ConflictError, NotFoundError } from "../errors/domain-error.ts";
import { type CreateOutcome, idempotent } from "../idempotency/service.ts";
import { creatorColumns } from "../lib/creator.ts";
import { newId } from "../lib/ids.ts";
import type { ServiceContext } from "../lib/service-context.ts";
import { fromStates } from "../lifecycle/task-lifecycle.ts";
import { createRegistered } from "../resources/create-path.ts";
import { type TaskView, toTaskView } from "./record.ts";
import { insertRedrive } from "./redrive-repo.ts";
import { actorOf, probeUnder } from "./service.ts";

const redrivable = fromStates("redrive");
const redrivableWords = redrivable.join(" or ").replaceAll("_", " ");

/** A fresh task with the same agent, type, input and limits; the original stays as it was. */
export function redriveTask(
  ctx: ServiceContext,
  sourceId: string,
  idempotencyKey: string | undefined,
): Promise<CreateOutcome<TaskView>> {
  const accountId = ctx.principal.accountId;
  return guard(ctx, { type: "task", permission: "update", ids: [sourceId] }, async (grant) => {
    const source = await probeUnder(ctx, grant, { id: sourceId });
    if (!redrivable.includes(source.state)) {
      throw new ConflictError("invalid_state", `Only ${redrivableWords} tasks can be redriven.`, {
        state: source.state,
      });
    }
    const id = newId("tsk");
    const edges = ctx.access.registers("task")
      ? registrationEdges({
          type: "task",
          id,
          accountId,
          owner: ctx.principal,
          parentAgentId: source.agent_id,
        })
      : [];
    const request = { operation: `redrive:${sourceId}`, idempotencyKey, body: {} };
    return createRegistered(
      ctx,
      edges,
      idempotent(ctx.principal, request, async (tx) => {
        const row = await insertRedrive(tx, {
          id,
          accountId,
          sourceId,
          allowed: grant.allowed,
          creator: creatorColumns(ctx.principal),
          actor: actorOf(ctx),
        });
        if (!row) throw new NotFoundError();
        return toTaskView(row);
      }),
    );
  });
}
