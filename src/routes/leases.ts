import { createRoute, z } from "@hono/zod-openapi";
import { authenticatesInStatement } from "../http/authentication.ts";
import { bearerSecurity, errorResponses, jsonBody, jsonContent } from "../http/openapi.ts";
import { createRouter } from "../http/router.ts";
import { maxClaimBatch } from "../leases/repo.ts";
import { acquire, claim, heartbeat } from "../leases/service.ts";
import { releaseLease } from "../leases/transitions.ts";
import { existingIdOr404, taskIdParam } from "./schemas.ts";
import { task, taskType } from "./task-schemas.ts";

const workerId = z.string().min(1).max(200);
// MAX_LEASE_SECONDS is a binding of at most 86400; the service checks the deployment's value.
const leaseSeconds = z
  .number()
  .int()
  .min(1)
  .max(86_400)
  .openapi({ description: "1..MAX_LEASE_SECONDS; default DEFAULT_LEASE_SECONDS" });
const lease = z
  .object({ worker_id: z.string(), epoch: z.number().int(), expires_at: z.iso.datetime() })
  .openapi("Lease");
const step = z.object({ seq: z.number().int(), kind: z.string(), target: z.string(), payload: z.unknown() });
const grantedTask = z
  .object({ task: task.extend({ compensations: z.array(step).optional() }), lease })
  .openapi("GrantedTask");

const claimBody = z
  .object({
    agent_id: z.string().min(1).max(64),
    worker_id: workerId,
    lease_seconds: leaseSeconds.optional(),
    max_tasks: z.number().int().min(1).max(maxClaimBatch).optional(),
    types: z.array(taskType).min(1).max(50).optional(),
    purposes: z
      .array(z.enum(["work", "compensation"]))
      .min(1)
      .optional()
      .openapi({
        description: 'Default ["work"]; "compensation" asks for compensating tasks and their steps.',
      }),
  })
  .strict()
  .openapi("Claim");
const acquireBody = z
  .object({ worker_id: workerId, lease_seconds: leaseSeconds.optional() })
  .strict()
  .openapi("Acquire");
const heartbeatBody = z
  .object({
    worker_id: workerId,
    epoch: z.number().int().min(0),
    lease_seconds: leaseSeconds.optional(),
    progress: z.unknown().optional(),
  })
  .strict()
  .openapi("Heartbeat");
const releaseBody = z
  .object({ worker_id: workerId, epoch: z.number().int().min(0) })
  .strict()
  .openapi("Release");
const heartbeatResult = z
  .object({ expires_at: z.iso.datetime().nullable(), epoch: z.number().int(), cancel_requested: z.boolean() })
  .openapi("HeartbeatResult");

const tags = ["leases"];
const leaseErrors = errorResponses(
  "unauthenticated",
  "forbidden",
  "not_found",
  "validation_failed",
  "task_terminal",
  "lease_held",
  "lease_lost",
  "invalid_state",
);

export const leaseRoutes = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/leases",
      tags,
      summary:
        "Claim up to max_tasks claimable tasks of an agent, with leases (expired leases are taken over)",
      security: bearerSecurity,
      middleware: [authenticatesInStatement] as const,
      request: { body: jsonBody(claimBody) },
      responses: {
        200: jsonContent(
          z.object({ items: z.array(grantedTask) }),
          "Granted tasks; empty when none is claimable",
        ),
        ...errorResponses("unauthenticated", "forbidden", "not_found", "validation_failed"),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      existingIdOr404("agt", body.agent_id);
      return c.json(await claim(c.var.service, body), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/tasks/{id}/lease",
      tags,
      summary: "Acquire the lease on one task",
      security: bearerSecurity,
      middleware: [authenticatesInStatement] as const,
      request: { params: taskIdParam, body: jsonBody(acquireBody) },
      responses: { 200: jsonContent(grantedTask, "The task and its lease"), ...leaseErrors },
    }),
    async (c) => {
      const body = c.req.valid("json");
      return c.json(
        await acquire(c.var.service, c.req.valid("param").id, body.worker_id, body.lease_seconds),
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/tasks/{id}/heartbeat",
      tags,
      summary: "Extend the lease (at most every TTL/6); tells the holder when the task was canceled",
      security: bearerSecurity,
      middleware: [authenticatesInStatement] as const,
      request: { params: taskIdParam, body: jsonBody(heartbeatBody) },
      // 429 is also a heartbeat sooner than TTL/6: every route already lists it.
      responses: { 200: jsonContent(heartbeatResult, "The new expiry"), ...leaseErrors },
    }),
    async (c) => c.json(await heartbeat(c.var.service, c.req.valid("param").id, c.req.valid("json")), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/tasks/{id}/release",
      tags,
      summary: "Give the lease back; the task is claimable again and the attempt is not counted",
      security: bearerSecurity,
      middleware: [authenticatesInStatement] as const,
      request: { params: taskIdParam, body: jsonBody(releaseBody) },
      responses: { 200: jsonContent(task, "The task"), ...leaseErrors },
    }),
    async (c) => c.json(await releaseLease(c.var.service, c.req.valid("param").id, c.req.valid("json")), 200),
  );
