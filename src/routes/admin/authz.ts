import { createRoute, z } from "@hono/zod-openapi";
import { backfillBatch, backfillTypes } from "../../authz-backfill/service.ts";
import { operatorContext } from "../../http/app-env.ts";
import { adminSecurity, errorResponses, jsonBody, jsonContent } from "../../http/openapi.ts";
import { createRouter } from "../../http/router.ts";

const backfillBody = z
  .object({
    resource_type: z
      .enum(backfillTypes)
      .openapi({ description: "`account` registers memberships from unrevoked keys." }),
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

export const adminAuthzRoutes = createRouter().openapi(
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
