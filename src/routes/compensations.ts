import { createRoute, z } from "@hono/zod-openapi";
import { bearerSecurity, errorResponses, jsonBody, jsonContent } from "../http/openapi.ts";
import { createRouter } from "../http/router.ts";
import { recordCompensation, resolveCompensation } from "../leases/compensations.ts";
import { type StepOutcome, stepStatus, stepStatuses } from "../lifecycle/task-lifecycle.ts";
import { redriveTask } from "../tasks/redrive.ts";
import { createdResponse, idempotencyHeader, maxInt4, taskIdParam } from "./schemas.ts";
import { task } from "./task-schemas.ts";

const token = { worker_id: z.string().min(1).max(200), epoch: z.number().int().min(0) };
const recordBody = z
  .object({
    kind: z.string().min(1).max(200),
    target: z.string().min(1).max(2000),
    payload: z.unknown().optional(),
    ...token,
  })
  .strict()
  .openapi("RecordCompensation");
const doneBody = z
  .object({ result: z.unknown().optional(), ...token })
  .strict()
  .openapi("CompensationDone");
const failedBody = z
  .object({ error: z.unknown().optional(), retryable: z.boolean().optional(), ...token })
  .strict()
  .openapi("CompensationFailed");
const stepParams = taskIdParam.extend({ seq: z.coerce.number().int().min(1).max(maxInt4) });
const stepView = z
  .object({
    seq: z.number().int(),
    kind: z.string(),
    target: z.string(),
    payload: z.unknown(),
    status: z.enum(stepStatuses),
  })
  .openapi("CompensationStep");

const tags = ["compensations"];
const errors = errorResponses(
  "unauthenticated",
  "forbidden",
  "not_found",
  "validation_failed",
  "task_terminal",
  "lease_lost",
  "lease_held",
  "invalid_state",
);

const resolveRoute = (outcome: StepOutcome, summary: string, body: typeof doneBody | typeof failedBody) =>
  createRoute({
    method: "post",
    path: `/v1/tasks/{id}/compensations/{seq}/${outcome}`,
    tags,
    summary,
    security: bearerSecurity,
    request: { params: stepParams, body: jsonBody(body) },
    responses: { 200: jsonContent(task, "The task after the step"), ...errors },
  });

export const compensationRoutes = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/tasks/{id}/compensations",
      tags,
      summary: "Record how to undo a step just done (leaseholder of a working task)",
      security: bearerSecurity,
      request: { params: taskIdParam, body: jsonBody(recordBody) },
      responses: { 201: jsonContent(stepView, "The recorded step"), ...errors },
    }),
    async (c) =>
      c.json(await recordCompensation(c.var.service, c.req.valid("param").id, c.req.valid("json")), 201),
  )
  .openapi(resolveRoute(stepStatus.done, "Mark the newest pending step undone", doneBody), async (c) => {
    const { id, seq } = c.req.valid("param");
    return c.json(
      await resolveCompensation(c.var.service, id, seq, stepStatus.done, c.req.valid("json")),
      200,
    );
  })
  .openapi(
    resolveRoute(
      stepStatus.failed,
      "Mark the newest pending step failed (retryable keeps it pending)",
      failedBody,
    ),
    async (c) => {
      const { id, seq } = c.req.valid("param");
      return c.json(
        await resolveCompensation(c.var.service, id, seq, stepStatus.failed, c.req.valid("json")),
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/tasks/{id}/redrive",
      tags: ["tasks"],
      summary: "Create a fresh task from a failed or quarantined one",
      security: bearerSecurity,
      request: { params: taskIdParam, headers: idempotencyHeader },
      responses: {
        201: jsonContent(task, "The new task"),
        ...errorResponses(
          "unauthenticated",
          "forbidden",
          "not_found",
          "invalid_state",
          "idempotency_key_reused",
        ),
      },
    }),
    async (c) =>
      createdResponse(
        c,
        await redriveTask(c.var.service, c.req.valid("param").id, c.req.valid("header")["idempotency-key"]),
      ),
  );
