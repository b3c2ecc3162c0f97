import { createRoute, z } from "@hono/zod-openapi";
import { checkReadiness } from "../health/service.ts";
import { errorResponses, jsonContent } from "../http/openapi.ts";
import { createRouter } from "../http/router.ts";

const liveness = z.object({ status: z.literal("ok") }).openapi("Health");
const readiness = z
  .object({
    status: z.enum(["ready", "not_ready"]),
    migrations: z.object({ expected: z.number().int(), applied: z.number().int() }),
  })
  .openapi("Readiness");

export const healthRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/health",
      tags: ["operations"],
      summary: "Liveness",
      responses: { 200: jsonContent(liveness, "The Worker is running"), ...errorResponses() },
    }),
    (c) => c.json({ status: "ok" as const }, 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/ready",
      tags: ["operations"],
      summary: "Readiness: database reachable and migrations current",
      responses: {
        200: jsonContent(readiness, "Ready to serve"),
        503: jsonContent(readiness, "Migrations pending"),
        ...errorResponses(),
      },
    }),
    async (c) => {
      const { ready, migrations } = await checkReadiness(c.var.deps.db);
      return ready
        ? c.json({ status: "ready" as const, migrations }, 200)
        : c.json({ status: "not_ready" as const, migrations }, 503);
    },
  );
