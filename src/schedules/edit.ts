// Editing a schedule (PATCH: settings, pause, resume) and "trigger now".
import { guard } from "../authz/guard.ts";
import { registrationEdges } from "../authz/model.ts";
import { sqlState, uniqueViolation } from "../db/pg-error.ts";
import { ConflictError, NotFoundError } from "../errors/domain-error.ts";
import { idempotent } from "../idempotency/service.ts";
import { creatorOf } from "../lib/creator.ts";
import { newId } from "../lib/ids.ts";
import type { ServiceContext } from "../lib/service-context.ts";
import { createRegistered } from "../resources/create-path.ts";
import { assertPayloadSize } from "../tasks/payload-limits.ts";
import { toTaskView } from "../tasks/record.ts";
import { actorOf } from "../tasks/service.ts";
import { validateCron } from "./cron-expression.ts";
import { findSchedule, lockScheduleForEdit, type ScheduleSettings, updateScheduleSettings } from "./repo.ts";
import { spawnRunNow } from "./run-repo.ts";
import {
  type CreateScheduleInput,
  nameTaken,
  onSchedule,
  type ScheduleView,
  toScheduleView,
} from "./service.ts";

export type ScheduleChanges = Partial<CreateScheduleInput>;

/**
 * Applies the changes to a locked row. Changing the expression or zone, or resuming, recomputes
 * the next instant from now and drops any buffered run: no backlog from the paused time.
 */
export function updateSchedule(
  ctx: ServiceContext,
  agentId: string,
  id: string,
  changes: ScheduleChanges,
): Promise<ScheduleView> {
  if (changes.task) assertPayloadSize("task.input", changes.task.input);
  const { accountId } = ctx.principal;
  return guard(ctx, onSchedule("manage", id), async (grant) => {
    const readable = await grant.readable();
    try {
      const row = await ctx.db.transaction(async (tx) => {
        const current = await lockScheduleForEdit(tx, accountId, agentId, id, readable, grant.allowed);
        grant.refuseUnless(current);
        if (!current) throw new NotFoundError();
        const cron = changes.cron?.trim() ?? current.cron;
        const timezone = changes.timezone ?? current.timezone;
        const paused = changes.paused ?? current.paused;
        const retimed = cron !== current.cron || timezone !== current.timezone || (current.paused && !paused);
        const nextFireAt = validateCron({ cron, timezone }, ctx.now);
        const settings: ScheduleSettings = {
          name: changes.name ?? current.name,
          cron,
          timezone,
          taskType: changes.task?.type ?? current.task_type,
          taskInput: changes.task ? changes.task.input : current.task_input,
          taskMaxAttempts: changes.task
            ? (changes.task.max_attempts ?? ctx.config.defaultMaxAttempts)
            : current.task_max_attempts,
          overlap: changes.overlap ?? current.overlap,
          catchupWindowSeconds: changes.catchup_window_seconds ?? current.catchup_window_seconds,
          paused,
          nextFireAt: paused ? null : retimed ? nextFireAt : current.next_fire_at,
        };
        return updateScheduleSettings(tx, accountId, id, settings, paused || retimed);
      });
      return toScheduleView(row);
    } catch (error) {
      if (sqlState(error) === uniqueViolation) throw nameTaken();
      throw error;
    }
  });
}

/**
 * Spawns one run now, whatever the overlap policy, owned like every run by the schedule's
 * creator. Accepts an Idempotency-Key, as every create does.
 */
export function triggerSchedule(
  ctx: ServiceContext,
  agentId: string,
  id: string,
  idempotencyKey: string | undefined,
) {
  const { accountId } = ctx.principal;
  return guard(ctx, onSchedule("manage", id), async (grant) => {
    const readable = await grant.readable();
    // The owner of the run's edges is the schedule's creator, so it is read first; creator and
    // agent never change, and the spawn statement re-checks that the schedule still exists.
    const schedule = await findSchedule(ctx.db, accountId, agentId, id, readable);
    if (!schedule) throw new NotFoundError();
    const taskId = newId("tsk");
    const edges = ctx.access.registers("task")
      ? registrationEdges({
          type: "task",
          id: taskId,
          accountId,
          owner: creatorOf(schedule),
          parentAgentId: agentId,
        })
      : [];
    try {
      const request = {
        operation: "trigger_schedule",
        idempotencyKey,
        body: { agent_id: agentId, schedule_id: id },
      };
      return await createRegistered(
        ctx,
        edges,
        idempotent(ctx.principal, request, async (tx) => {
          const run = await spawnRunNow(
            tx,
            { accountId, agentId, scheduleId: id, taskId, scheduledFor: ctx.now, actor: actorOf(ctx) },
            grant.allowed,
          );
          if (!run) {
            grant.refuseUnless(
              await lockScheduleForEdit(tx, accountId, agentId, id, readable, grant.allowed),
            );
            throw new NotFoundError();
          }
          return toTaskView(run);
        }),
      );
    } catch (error) {
      if (sqlState(error) === uniqueViolation) {
        throw new ConflictError("run_exists", "A run of this schedule for this instant already exists.");
      }
      throw error;
    }
  });
}
