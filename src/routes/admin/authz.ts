import { createRoute, z } from "@hono/zod-openapi";
import { outboxOperations } from "../../authz/outbox-repo.ts";
import { backfillBatch, backfillTypes } from "../../authz-backfill/service.ts";
import { listOutbox } from "../../authz-outbox/service.ts";
import { operatorContext } from "../../http/app-env.ts";
import { adminSecurity, errorResponses, jsonBody, jsonContent } from "../../http/openapi.ts";
import { createRouter } from "../../http/router.ts";
import { sequenceCursor } from "../schemas.ts";

const backfillBody = z
  .object({
    resource_type: z.enum(backfillTypes).openapi({
      description:
        "`account`: memberships from unrevoked principal keys (agent keys are not members); `api_key`: agent keys' registration and worker edges; the others: each row's account, owner and parent edges.",
    }),
    after: z.string().max(64).default(""),
    limit: z.number().int().min(1).max(5000).default(1000),
  })
  .strict()
  .openapi("Backfill");

const backfillReport = z
  .object({
    resource_type: z.enum(backfillTypes),
    scanned: z.number().int(),
    edges: z.number().int(),
    next_cursor: z.string().nullable(),
  })
  .openapi("BackfillReport");

const outboxQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: sequenceCursor.optional(),
});

const outboxEntry = z
  .object({
    id: z.number().int(),
    operation: z.enum(outboxOperations).openapi({
      description:
        "`deregister`: remove every edge naming deleted objects; `remove_edges`: a failed create's edges.",
    }),
    object_type: z.string(),
    object_ids: z.array(z.string()),
    edges: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "How many exact edges `remove_edges` removes." }),
    attempts: z.number().int(),
    last_error: z.string().nullable(),
    created_at: z.iso.datetime(),
    next_attempt_at: z.iso.datetime(),
  })
  .openapi("OutboxEntry");

export const adminAuthzRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/admin/authz/outbox",
      tags: ["admin"],
      summary: "Authorization work the cron still has to finish, oldest first (empty when all is done)",
      security: adminSecurity,
      request: { query: outboxQuery },
      responses: {
        200: jsonContent(
          z.object({ items: z.array(outboxEntry), next_cursor: z.string().nullable() }).openapi("OutboxList"),
          "A page of entries",
        ),
        ...errorResponses("unauthenticated", "validation_failed"),
      },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid("query");
      return c.json(await listOutbox(operatorContext(c.var.deps), Number(cursor ?? 0), limit), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/admin/authz/backfill",
      tags: ["admin"],
      summary:
        "Register one batch of existing rows of a type in the graph (idempotent; repeat with next_cursor)",
      security: adminSecurity,
      request: { body: jsonBody(backfillBody) },
      responses: {
        200: jsonContent(backfillReport, "What this batch did"),
        ...errorResponses("unauthenticated", "validation_failed"),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      return c.json(
        await backfillBatch(operatorContext(c.var.deps), body.resource_type, body.after, body.limit),
        200,
      );
    },
  );
