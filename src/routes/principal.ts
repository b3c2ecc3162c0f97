import { createRoute, z } from "@hono/zod-openapi";
import { accountRoles, principalTypes } from "../db/schema/enums.ts";
import { bearerSecurity, errorResponses, jsonContent } from "../http/openapi.ts";
import { createRouter } from "../http/router.ts";

const principal = z
  .object({
    account_id: z.string(),
    type: z.enum(principalTypes),
    id: z.string(),
    role: z.enum(accountRoles),
    key_id: z.string(),
  })
  .openapi("Principal");

export const principalRoutes = createRouter().openapi(
  createRoute({
    method: "get",
    path: "/v1/principal",
    tags: ["auth"],
    summary: "Who the presented API key authenticates as",
    security: bearerSecurity,
    responses: { 200: jsonContent(principal, "The caller"), ...errorResponses("unauthenticated") },
  }),
  (c) => {
    const p = c.var.service.principal;
    return c.json({ account_id: p.accountId, type: p.type, id: p.id, role: p.role, key_id: p.keyId }, 200);
  },
);
