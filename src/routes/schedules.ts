import { createRoute, z } from "@hono/zod-openapi";
import { schedules } from "../db/schema/schedules.ts";
import { bearerSecurity, errorResponses, jsonBody, jsonContent } from "../http/openapi.ts";
import { createRouter } from "../http/router.ts";
import { overlapPolicies } from "../lifecycle/schedule-overlap.ts";
import { triggerSchedule, updateSchedule } from "../schedules/edit.ts";
import { createSchedule, deleteSchedule, getSchedule, listSchedulesOfAgent } from "../schedules/service.ts";
import { rowSchema } from "./row-schema.ts";
import {
  agentIdParam,
  createdBy,
  createdResponse,
  idempotencyHeader,
  listOf,
  pageQuery,
  resourceId,
  resourceName,
  toPageRequest,
} from "./schemas.ts";
import { task, taskType } from "./task-schemas.ts";

const maxCatchupSeconds = 7 * 24 * 3600;

const taskTemplate = z
  .object({
    type: taskType,
    input: z.unknown().optional(),
    max_attempts: z.number().int().min(1).max(100).optional(),
  })
  .strict()
  .openapi("ScheduleTaskTemplate");

const settings = {
  name: resourceName,
  cron: z.string().min(1).max(200).openapi({
    description: "Five fields: minute hour day-of-month month day-of-week, evaluated in `timezone`.",
    example: "*/15 9-17 * * 1-5",
  }),
  timezone: z
    .string()
    .min(1)
    .max(64)
    .openapi({ description: "An IANA time zone.", example: "Europe/Berlin" }),
  task: taskTemplate,
  overlap: z.enum(overlapPolicies).openapi({
    description: "While the previous run is live: `skip` it, `allow` another, or `buffer_one` for later.",
  }),
  catchup_window_seconds: z.number().int().min(0).max(maxCatchupSeconds).openapi({
    description: "Due instants older than this when the cron gets to them are counted missed, not run.",
  }),
  paused: z.boolean(),
};

const createScheduleBody = z
  .object({
    ...settings,
    timezone: settings.timezone.default("UTC"),
    overlap: settings.overlap.default("skip"),
    catchup_window_seconds: settings.catchup_window_seconds.default(3600),
    paused: settings.paused.default(false),
  })
  .strict()
  .openapi("CreateSchedule");

const updateScheduleBody = z
  .object(settings)
  .partial()
  .strict()
  .refine((body) => Object.keys(body).length > 0, "Send at least one field to change.")
  .openapi("UpdateSchedule");

const scheduleRow = rowSchema(schedules);
export const schedule = scheduleRow
  .pick({
    id: true,
    agent_id: true,
    name: true,
    cron: true,
    timezone: true,
    overlap: true,
    catchup_window_seconds: true,
    paused: true,
    last_scheduled_for: true,
    buffered_for: true,
    last_task_id: true,
    missed_fires: true,
    created_at: true,
    updated_at: true,
  })
  .extend({
    task: z.object({
      type: scheduleRow.shape.task_type,
      input: scheduleRow.shape.task_input,
      max_attempts: scheduleRow.shape.task_max_attempts,
    }),
    next_fire_at: scheduleRow.shape.next_fire_at.openapi({ description: "Null while paused." }),
    created_by: createdBy,
  })
  .openapi("Schedule");

const scheduleParams = agentIdParam.extend({ sid: resourceId("sch") });
const tags = ["schedules"];
const path = "/v1/agents/{id}/schedules";

export const scheduleRoutes = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path,
      tags,
      summary: "Create a schedule that spawns tasks under the agent (needs manage on the agent)",
      security: bearerSecurity,
      request: { params: agentIdParam, headers: idempotencyHeader, body: jsonBody(createScheduleBody) },
      responses: {
        201: jsonContent(schedule, "The new schedule"),
        ...errorResponses(
          "unauthenticated",
          "forbidden",
          "not_found",
          "name_taken",
          "idempotency_key_reused",
          "payload_too_large",
          "validation_failed",
        ),
      },
    }),
    async (c) =>
      createdResponse(
        c,
        await createSchedule(
          c.var.service,
          c.req.valid("param").id,
          c.req.valid("json"),
          c.req.valid("header")["idempotency-key"],
        ),
      ),
  )
  .openapi(
    createRoute({
      method: "get",
      path,
      tags,
      summary: "List the agent's schedules the caller can read, newest first",
      security: bearerSecurity,
      request: { params: agentIdParam, query: pageQuery },
      responses: {
        200: jsonContent(listOf(schedule, "ScheduleList"), "A page of schedules"),
        ...errorResponses("unauthenticated", "not_found", "validation_failed"),
      },
    }),
    async (c) =>
      c.json(
        await listSchedulesOfAgent(
          c.var.service,
          c.req.valid("param").id,
          toPageRequest(c.req.valid("query")),
        ),
        200,
      ),
  )
  .openapi(
    createRoute({
      method: "get",
      path: `${path}/{sid}`,
      tags,
      summary: "Read a schedule",
      security: bearerSecurity,
      request: { params: scheduleParams },
      responses: {
        200: jsonContent(schedule, "The schedule"),
        ...errorResponses("unauthenticated", "not_found"),
      },
    }),
    async (c) => {
      const { id, sid } = c.req.valid("param");
      return c.json(await getSchedule(c.var.service, id, sid), 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: `${path}/{sid}`,
      tags,
      summary: "Edit, pause (`paused: true`) or resume (`paused: false`, from now, no backlog)",
      security: bearerSecurity,
      request: { params: scheduleParams, body: jsonBody(updateScheduleBody) },
      responses: {
        200: jsonContent(schedule, "The schedule after the edit"),
        ...errorResponses(
          "unauthenticated",
          "forbidden",
          "not_found",
          "name_taken",
          "payload_too_large",
          "validation_failed",
        ),
      },
    }),
    async (c) => {
      const { id, sid } = c.req.valid("param");
      return c.json(await updateSchedule(c.var.service, id, sid, c.req.valid("json")), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: `${path}/{sid}`,
      tags,
      summary: "Delete the schedule (its runs stay) and remove its edges",
      security: bearerSecurity,
      request: { params: scheduleParams },
      responses: {
        204: { description: "Deleted" },
        ...errorResponses("unauthenticated", "forbidden", "not_found"),
      },
    }),
    async (c) => {
      const { id, sid } = c.req.valid("param");
      await deleteSchedule(c.var.service, id, sid);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: `${path}/{sid}/trigger`,
      tags,
      summary: "Spawn one run now, whatever the overlap policy",
      security: bearerSecurity,
      request: { params: scheduleParams, headers: idempotencyHeader },
      responses: {
        201: jsonContent(task, "The spawned task"),
        ...errorResponses(
          "unauthenticated",
          "forbidden",
          "not_found",
          "run_exists",
          "idempotency_key_reused",
        ),
      },
    }),
    async (c) => {
      const { id, sid } = c.req.valid("param");
      return createdResponse(
        c,
        await triggerSchedule(c.var.service, id, sid, c.req.valid("header")["idempotency-key"]),
      );
    },
  );
