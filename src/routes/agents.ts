import { createRoute, z } from "@hono/zod-openapi";
import {
  changeAgentGrant,
  createAgent,
  deleteAgent,
  getAgent,
  listVisibleAgents,
} from "../agents/service.ts";
import { agents } from "../db/schema/agents.ts";
import { bearerSecurity, errorResponses, jsonBody, jsonContent } from "../http/openapi.ts";
import { createRouter } from "../http/router.ts";
import { grantRoutes } from "./grant-routes.ts";
import { rowSchema } from "./row-schema.ts";
import {
  agentIdParam,
  createdBy,
  createdResponse,
  grantBody,
  grantView,
  idempotencyHeader,
  listOf,
  pageQuery,
  resourceName,
  toPageRequest,
} from "./schemas.ts";

export const agent = rowSchema(agents)
  .pick({ id: true, name: true, description: true, created_at: true })
  .extend({ metadata: z.record(z.string(), z.unknown()), created_by: createdBy })
  .openapi("Agent");

const createAgentBody = z
  .object({
    name: resourceName,
    description: z.string().max(2000).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .openapi("CreateAgent");

const agentGrant = grantBody(["editor", "viewer", "worker"] as const, "AgentGrant");
const tags = ["agents"];

export const agentRoutes = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/agents",
      tags,
      summary: "Create an agent (the caller becomes its owner)",
      security: bearerSecurity,
      request: { headers: idempotencyHeader, body: jsonBody(createAgentBody) },
      responses: {
        201: jsonContent(agent, "The new agent"),
        ...errorResponses(
          "unauthenticated",
          "forbidden",
          "validation_failed",
          "name_taken",
          "idempotency_key_reused",
        ),
      },
    }),
    async (c) =>
      createdResponse(
        c,
        await createAgent(c.var.service, c.req.valid("json"), c.req.valid("header")["idempotency-key"]),
      ),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/agents",
      tags,
      summary: "List the agents the caller can read, newest first",
      security: bearerSecurity,
      request: { query: pageQuery },
      responses: {
        200: jsonContent(listOf(agent, "AgentList"), "A page of agents"),
        ...errorResponses("unauthenticated", "validation_failed"),
      },
    }),
    async (c) => c.json(await listVisibleAgents(c.var.service, toPageRequest(c.req.valid("query"))), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/agents/{id}",
      tags,
      summary: "Read an agent",
      security: bearerSecurity,
      request: { params: agentIdParam },
      responses: { 200: jsonContent(agent, "The agent"), ...errorResponses("unauthenticated", "not_found") },
    }),
    async (c) => c.json(await getAgent(c.var.service, c.req.valid("param").id), 200),
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/agents/{id}",
      tags,
      summary: "Delete an agent with its finished tasks; refused while any task is live",
      security: bearerSecurity,
      request: { params: agentIdParam },
      responses: {
        204: { description: "Deleted" },
        ...errorResponses("unauthenticated", "forbidden", "not_found", "agent_has_live_tasks"),
      },
    }),
    async (c) => {
      await deleteAgent(c.var.service, c.req.valid("param").id);
      return c.body(null, 204);
    },
  );

export const agentGrantRoutes = grantRoutes(
  "/v1/agents",
  agentIdParam,
  "agent",
  agentGrant,
  changeAgentGrant,
);
