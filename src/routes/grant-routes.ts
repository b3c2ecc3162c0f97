import { createRoute } from "@hono/zod-openapi";
import type { z } from "zod";
import type { GrantInput } from "../authz/grants.ts";
import { bearerSecurity, errorResponses, jsonBody, jsonContent } from "../http/openapi.ts";
import { createRouter } from "../http/router.ts";
import type { ServiceContext } from "../lib/service-context.ts";
import { grantView } from "./schemas.ts";

type ChangeGrant = (ctx: ServiceContext, id: string, grant: GrantInput, remove: boolean) => Promise<unknown>;

/** POST and DELETE `<collection>/{id}/grants` for a shareable resource. */
export function grantRoutes(
  collection: string,
  params: z.ZodObject<{ id: z.ZodString }>,
  noun: string,
  body: z.ZodType<GrantInput>,
  change: ChangeGrant,
) {
  const common = {
    path: `${collection}/{id}/grants`,
    tags: [`${noun}s`],
    security: bearerSecurity,
    request: { params, body: jsonBody(body) },
  };
  const errors = errorResponses("unauthenticated", "forbidden", "not_found", "validation_failed");
  return createRouter()
    .openapi(
      createRoute({
        ...common,
        method: "post",
        summary: `Share a ${noun} with a principal (idempotent)`,
        responses: { 200: jsonContent(grantView, "The grant"), ...errors },
      }),
      async (c) =>
        c.json(
          (await change(c.var.service, c.req.valid("param").id, c.req.valid("json"), false)) as z.infer<
            typeof grantView
          >,
          200,
        ),
    )
    .openapi(
      createRoute({
        ...common,
        method: "delete",
        summary: `Take a ${noun} grant back (idempotent)`,
        responses: { 204: { description: "Removed" }, ...errors },
      }),
      async (c) => {
        await change(c.var.service, c.req.valid("param").id, c.req.valid("json"), true);
        return c.body(null, 204);
      },
    );
}
