// Schedules (DESIGN §7): created under an agent by someone who manages it, registered in the
// graph (owner = creator, parent = agent) in the row's own transaction.
import { probeAgent } from "../agents/repo.ts";
import { type Grant, guard, guardList } from "../authz/guard.ts";
import { registrationEdges } from "../authz/model.ts";
import { foreignKeyViolation, sqlState, uniqueViolation } from "../db/pg-error.ts";
import { ConflictError, NotFoundError } from "../errors/domain-error.ts";
import { type CreateOutcome, idempotent } from "../idempotency/service.ts";
import { createdByView, creatorColumns } from "../lib/creator.ts";
import { newId } from "../lib/ids.ts";
import { type Page, toPage } from "../lib/pagination.ts";
import type { ServiceContext } from "../lib/service-context.ts";
import type { OverlapPolicy } from "../lifecycle/schedule-overlap.ts";
import { createRegistered } from "../resources/create-path.ts";
import { assertPayloadSize } from "../tasks/payload-limits.ts";
import { validateCron } from "./cron-expression.ts";
import {
  deleteScheduleIfAllowed,
  findSchedule,
  insertScheduleIfAllowed,
  listSchedules,
  probeSchedule,
  type ScheduleRecord,
} from "./repo.ts";

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

export function toScheduleView(row: ScheduleRecord) {
  return {
    id: row.id,
    agent_id: row.agent_id,
    name: row.name,
    cron: row.cron,
    timezone: row.timezone,
    task: { type: row.task_type, input: row.task_input ?? null, max_attempts: row.task_max_attempts },
    overlap: row.overlap,
    catchup_window_seconds: row.catchup_window_seconds,
    paused: row.paused,
    next_fire_at: iso(row.next_fire_at),
    last_scheduled_for: iso(row.last_scheduled_for),
    buffered_for: iso(row.buffered_for),
    last_task_id: row.last_task_id,
    missed_fires: row.missed_fires,
    created_by: createdByView(row),
    created_at: iso(row.created_at) as string,
    updated_at: iso(row.updated_at) as string,
  };
}
export type ScheduleView = ReturnType<typeof toScheduleView>;

export interface TaskTemplate {
  type: string;
  input?: unknown;
  max_attempts?: number | undefined;
}

export interface CreateScheduleInput {
  name: string;
  cron: string;
  timezone: string;
  task: TaskTemplate;
  overlap: OverlapPolicy;
  catchup_window_seconds: number;
  paused: boolean;
}

/** A need on one schedule: the graph checks just it. Lists use `guardList`. */
export const onSchedule = (permission: "read" | "manage", id: string) =>
  ({ type: "schedule", permission, ids: [id] }) as const;

const onAgent = (permission: string, id: string) => ({ type: "agent", permission, ids: [id] }) as const;

export const nameTaken = () =>
  new ConflictError("name_taken", "A schedule with this name already exists under the agent.");

/** The agent is missing or unreadable (404), or the caller may not hold the grant's need on it (403). */
async function refuseUnlessAgent(ctx: ServiceContext, agentId: string, grant: Grant) {
  grant.refuseUnless(
    await probeAgent(ctx.db, ctx.principal.accountId, agentId, await grant.readable(), grant.allowed),
  );
}

export function createSchedule(
  ctx: ServiceContext,
  agentId: string,
  input: CreateScheduleInput,
  idempotencyKey: string | undefined,
): Promise<CreateOutcome<ScheduleView>> {
  assertPayloadSize("task.input", input.task.input);
  const firstFire = validateCron(input, ctx.now);
  const { principal } = ctx;
  const id = newId("sch");
  const edges = ctx.access.registers("schedule")
    ? registrationEdges({
        type: "schedule",
        id,
        accountId: principal.accountId,
        owner: principal,
        parentAgentId: agentId,
      })
    : [];
  return guard(ctx, onAgent("manage", agentId), async (grant) => {
    try {
      const request = { operation: "create_schedule", idempotencyKey, body: { agent_id: agentId, ...input } };
      return await createRegistered(
        ctx,
        edges,
        idempotent(principal, request, async (tx) => {
          const row = await insertScheduleIfAllowed(
            tx,
            {
              id,
              accountId: principal.accountId,
              agentId,
              name: input.name,
              cron: input.cron.trim(),
              timezone: input.timezone,
              taskType: input.task.type,
              taskInput: input.task.input,
              taskMaxAttempts: input.task.max_attempts ?? ctx.config.defaultMaxAttempts,
              overlap: input.overlap,
              catchupWindowSeconds: input.catchup_window_seconds,
              paused: input.paused,
              nextFireAt: input.paused ? null : firstFire,
              creator: creatorColumns(principal),
            },
            grant.allowed,
          );
          if (!row) {
            await refuseUnlessAgent(ctx, agentId, grant);
            throw new NotFoundError();
          }
          // The response is built from the insert's RETURNING: nothing is read back after commit.
          return toScheduleView(row);
        }),
      );
    } catch (error) {
      if (sqlState(error) === uniqueViolation) throw nameTaken();
      if (sqlState(error) === foreignKeyViolation) throw new NotFoundError();
      throw error;
    }
  });
}

export function getSchedule(ctx: ServiceContext, agentId: string, id: string): Promise<ScheduleView> {
  return guard(ctx, onSchedule("read", id), async (grant) => {
    const row = await findSchedule(ctx.db, ctx.principal.accountId, agentId, id, grant.allowed);
    if (!row) throw new NotFoundError();
    return toScheduleView(row);
  });
}

export function listSchedulesOfAgent(ctx: ServiceContext, agentId: string, page: Page) {
  return guardList(ctx, { type: "schedule", permission: "read" }, async (scope, acted) => {
    const rows = await listSchedules(
      ctx.db,
      ctx.principal.accountId,
      agentId,
      scope,
      page.limit,
      page.before,
    );
    if (rows.length === 0) {
      // An empty page of a missing or unreadable agent is a 404; the check is not a decision
      // the list made about the agent, so it records nothing for the shadow comparison.
      await guard(ctx, onAgent("read", agentId), async (grant) => {
        await refuseUnlessAgent(ctx, agentId, grant);
        grant.acted([]);
      });
    }
    const result = toPage(rows.map(toScheduleView), page.limit);
    acted(result.items.map((item) => item.id));
    return result;
  });
}

/** Deletes the schedule and removes its edges; the runs it spawned stay, with their `schedule_id`. */
export function deleteSchedule(ctx: ServiceContext, agentId: string, id: string): Promise<void> {
  const { accountId } = ctx.principal;
  return guard(ctx, onSchedule("manage", id), async (grant) => {
    const deleted = await ctx.authorizer.deleteRegistered((deregister) =>
      ctx.db.transaction(async (tx) => {
        const row = await deleteScheduleIfAllowed(tx, accountId, agentId, id, grant.allowed);
        if (row) await deregister(tx, [{ type: "schedule", id }]);
        return row;
      }),
    );
    if (!deleted) {
      grant.refuseUnless(
        await probeSchedule(ctx.db, accountId, agentId, id, await grant.readable(), grant.allowed),
      );
      throw new NotFoundError();
    }
  });
}
