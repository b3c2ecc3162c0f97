import { createRoute, z } from "@hono/zod-openapi";
import { issuePrincipalKey, revokePrincipalKey } from "../../api-keys/service.ts";
import { apiKeys } from "../../db/schema/api-keys.ts";
import { accountRoles } from "../../db/schema/enums.ts";
import { ValidationError } from "../../errors/domain-error.ts";
import { operatorContext } from "../../http/app-env.ts";
import { adminSecurity, errorResponses, jsonBody, jsonContent } from "../../http/openapi.ts";
import { createRouter } from "../../http/router.ts";
import { isId } from "../../lib/ids.ts";
import { rowSchema } from "../row-schema.ts";
import { principalRef, resourceId } from "../schemas.ts";

const issueKeyBody = z
  .object({ account_id: z.string().min(1).max(64), principal: principalRef, role: z.enum(accountRoles) })
  .strict()
  .openapi("IssueApiKey");

export const issuedKey = rowSchema(apiKeys)
  .pick({ id: true, account_id: true, role: true, created_at: true, revoked_at: true })
  .extend({
    principal: principalRef,
    key: z.string().openapi({ description: "The bearer token. Shown only in this response." }),
  })
  .openapi("IssuedApiKey");

export const adminApiKeyRoutes = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/admin/api-keys",
      tags: ["admin"],
      summary: "Issue an API key for a principal of an account",
      security: adminSecurity,
      request: { body: jsonBody(issueKeyBody) },
      responses: {
        201: jsonContent(issuedKey, "The key, with its plaintext token shown once"),
        ...errorResponses("unauthenticated", "validation_failed"),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      // A malformed account id is answered as the service answers a missing account.
      if (!isId("acc", body.account_id))
        throw new ValidationError([
          { location: "body", pointer: "/account_id", message: "No such account." },
        ]);
      const { key, token } = await issuePrincipalKey(operatorContext(c.var.deps), {
        accountId: body.account_id,
        principal: body.principal,
        role: body.role,
      });
      return c.json({ ...key, key: token }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/admin/api-keys/{id}",
      tags: ["admin"],
      summary: "Revoke an API key (idempotent)",
      security: adminSecurity,
      request: { params: z.object({ id: resourceId("key") }) },
      responses: { 204: { description: "Revoked" }, ...errorResponses("unauthenticated", "not_found") },
    }),
    async (c) => {
      await revokePrincipalKey(operatorContext(c.var.deps), c.req.valid("param").id);
      return c.body(null, 204);
    },
  );
