import { createRoute, z } from "@hono/zod-openapi";
import { authenticatesInStatement } from "../http/authentication.ts";
import { bearerSecurity, errorResponses, jsonBody, jsonContent } from "../http/openapi.ts";
import { createRouter } from "../http/router.ts";
import { isId } from "../lib/ids.ts";
import { createTask, createTaskBatch, maxBatchSize } from "../tasks/create.ts";
import {
  addAuditNote,
  changeTaskGrant,
  getTask,
  listVisibleTasks,
  removeTask,
  taskEvents,
} from "../tasks/service.ts";
import { grantRoutes } from "./grant-routes.ts";
import {
  createdResponse,
  existingIdOr404,
  grantBody,
  grantView,
  idempotencyHeader,
  listOf,
  pageQuery,
  sequenceCursor,
  taskIdParam,
  toPageRequest,
} from "./schemas.ts";
import { auditNoteBody, createTaskBody, task, taskEvent, taskListQuery, taskName } from "./task-schemas.ts";

const tags = ["tasks"];
const createTaskBatchBody = z
  .object({
    agent_id: createTaskBody.shape.agent_id,
    tasks: z
      .array(createTaskBody.omit({ agent_id: true }))
      .min(1)
      .max(maxBatchSize),
  })
  .strict()
  .openapi("CreateTaskBatch");
const nameParam = z.object({ name: taskName });
const taskGrant = grantBody(["editor", "viewer"] as const, "TaskGrant");
const eventsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: sequenceCursor.optional(),
});
const readErrors = errorResponses("unauthenticated", "not_found");

export const taskRoutes = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/tasks",
      tags,
      summary: "Create a task under an agent (the caller becomes its owner)",
      security: bearerSecurity,
      middleware: [authenticatesInStatement] as const,
      request: { headers: idempotencyHeader, body: jsonBody(createTaskBody) },
      responses: {
        201: jsonContent(task, "The new task"),
        ...errorResponses(
          "unauthenticated",
          "forbidden",
          "not_found",
          "validation_failed",
          "name_taken",
          "idempotency_key_reused",
        ),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      existingIdOr404("agt", body.agent_id);
      return createdResponse(
        c,
        await createTask(c.var.service, body, c.req.valid("header")["idempotency-key"]),
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/tasks/batch",
      tags,
      summary: `Create up to ${maxBatchSize} tasks under one agent, all or none`,
      security: bearerSecurity,
      middleware: [authenticatesInStatement] as const,
      request: { headers: idempotencyHeader, body: jsonBody(createTaskBatchBody) },
      responses: {
        201: jsonContent(
          z.object({ items: z.array(task) }).openapi("TaskBatch"),
          "The new tasks, in request order",
        ),
        ...errorResponses(
          "unauthenticated",
          "forbidden",
          "not_found",
          "validation_failed",
          "name_taken",
          "idempotency_key_reused",
        ),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      existingIdOr404("agt", body.agent_id);
      return createdResponse(
        c,
        await createTaskBatch(c.var.service, body, c.req.valid("header")["idempotency-key"]),
      );
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/tasks",
      tags,
      summary: "List the tasks the caller can read, newest first",
      security: bearerSecurity,
      request: { query: pageQuery.extend(taskListQuery.shape) },
      responses: {
        200: jsonContent(listOf(task, "TaskList"), "A page of tasks"),
        ...errorResponses("unauthenticated", "validation_failed"),
      },
    }),
    async (c) => {
      const query = c.req.valid("query");
      const page = toPageRequest(query);
      // No agent has a malformed id: the answer is the empty list a missing agent gets.
      if (query.agent_id !== undefined && !isId("agt", query.agent_id))
        return c.json({ items: [], next_cursor: null }, 200);
      const filters = {
        agentId: query.agent_id,
        states: query.state,
        type: query.type,
        createdBy: query.created_by,
        stale: query.stale,
      };
      return c.json(await listVisibleTasks(c.var.service, filters, page), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/tasks/by-name/{name}",
      tags,
      summary: "Read a task by its name",
      security: bearerSecurity,
      middleware: [authenticatesInStatement] as const,
      request: { params: nameParam },
      responses: { 200: jsonContent(task, "The task"), ...readErrors },
    }),
    async (c) => c.json(await getTask(c.var.service, { name: c.req.valid("param").name }), 200),
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/tasks/by-name/{name}",
      tags,
      summary: "Delete a task by its name, with its events and edges",
      security: bearerSecurity,
      request: { params: nameParam },
      responses: {
        204: { description: "Deleted" },
        ...errorResponses("unauthenticated", "forbidden", "not_found"),
      },
    }),
    async (c) => {
      await removeTask(c.var.service, { name: c.req.valid("param").name });
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/tasks/{id}",
      tags,
      summary: "Read a task",
      security: bearerSecurity,
      middleware: [authenticatesInStatement] as const,
      request: { params: taskIdParam },
      responses: { 200: jsonContent(task, "The task"), ...readErrors },
    }),
    async (c) => c.json(await getTask(c.var.service, { id: c.req.valid("param").id }), 200),
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/tasks/{id}",
      tags,
      summary: "Delete a task with its events and edges",
      security: bearerSecurity,
      request: { params: taskIdParam },
      responses: {
        204: { description: "Deleted" },
        ...errorResponses("unauthenticated", "forbidden", "not_found"),
      },
    }),
    async (c) => {
      await removeTask(c.var.service, { id: c.req.valid("param").id });
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/tasks/{id}/events",
      tags,
      summary: "The task's audit trail, oldest first",
      security: bearerSecurity,
      request: { params: taskIdParam, query: eventsQuery },
      responses: { 200: jsonContent(listOf(taskEvent, "TaskEventList"), "A page of events"), ...readErrors },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid("query");
      return c.json(
        await taskEvents(c.var.service, c.req.valid("param").id, Number(cursor ?? 0), limit),
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/tasks/{id}/audit-note",
      tags,
      summary: "Append a note to the audit trail (allowed on terminal tasks)",
      security: bearerSecurity,
      request: { params: taskIdParam, body: jsonBody(auditNoteBody) },
      responses: {
        201: jsonContent(taskEvent, "The note"),
        ...errorResponses("unauthenticated", "forbidden", "not_found", "validation_failed"),
      },
    }),
    async (c) =>
      c.json(await addAuditNote(c.var.service, c.req.valid("param").id, c.req.valid("json").note), 201),
  );

export const taskGrantRoutes = grantRoutes("/v1/tasks", taskIdParam, "task", taskGrant, changeTaskGrant);
