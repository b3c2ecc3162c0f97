import { createRoute, z } from "@hono/zod-openapi";
import { createAccount } from "../../accounts/service.ts";
import { accounts } from "../../db/schema/accounts.ts";
import { operatorContext } from "../../http/app-env.ts";
import { adminSecurity, errorResponses, jsonBody, jsonContent } from "../../http/openapi.ts";
import { createRouter } from "../../http/router.ts";
import { rowSchema } from "../row-schema.ts";
import { resourceName } from "../schemas.ts";

const createAccountBody = z.object({ name: resourceName }).strict().openapi("CreateAccount");
export const account = rowSchema(accounts).openapi("Account");

export const adminAccountRoutes = createRouter().openapi(
  createRoute({
    method: "post",
    path: "/v1/admin/accounts",
    tags: ["admin"],
    summary: "Create an account",
    security: adminSecurity,
    request: { body: jsonBody(createAccountBody) },
    responses: {
      201: jsonContent(account, "The new account"),
      ...errorResponses("unauthenticated", "validation_failed"),
    },
  }),
  async (c) => {
    return c.json(await createAccount(operatorContext(c.var.deps), c.req.valid("json")), 201);
  },
);
