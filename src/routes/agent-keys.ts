import { createRoute, z } from "@hono/zod-openapi";
import { createAgentKey, deleteAgentKey, listKeysOfAgent } from "../api-keys/agent-keys.ts";
import { apiKeys } from "../db/schema/api-keys.ts";
import { bearerSecurity, errorResponses, jsonContent } from "../http/openapi.ts";
import { createRouter } from "../http/router.ts";
import { rowSchema } from "./row-schema.ts";
import {
  agentIdParam,
  createdBy,
  createdResponse,
  idempotencyHeader,
  listOf,
  pageQuery,
  resourceId,
  toPageRequest,
} from "./schemas.ts";

const keyRow = rowSchema(apiKeys);
export const agentKey = keyRow
  .pick({ id: true, created_at: true, revoked_at: true })
  .extend({
    agent_id: z.string(),
    principal: z.object({ type: z.literal("service_account"), id: keyRow.shape.principal_id }),
    created_by: createdBy,
  })
  .openapi("AgentKey");
export const createdAgentKey = agentKey
  .extend({
    key: z.string().nullable().openapi({
      description: "The plaintext key, shown once; null when an Idempotency-Key replays the create.",
    }),
  })
  .openapi("CreatedAgentKey");
const keyParams = agentIdParam.extend({ key_id: resourceId("key") });
const tags = ["agent keys"];

export const agentKeyRoutes = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/agents/{id}/api-keys",
      tags,
      summary: "Create a key for the agent's workers: it can claim and drive this agent's tasks only",
      security: bearerSecurity,
      request: { params: agentIdParam, headers: idempotencyHeader },
      responses: {
        201: jsonContent(createdAgentKey, "The new key"),
        ...errorResponses("unauthenticated", "forbidden", "not_found", "idempotency_key_reused"),
      },
    }),
    async (c) =>
      createdResponse(
        c,
        await createAgentKey(
          c.var.service,
          c.req.valid("param").id,
          c.req.valid("header")["idempotency-key"],
        ),
      ),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/agents/{id}/api-keys",
      tags,
      summary: "List the agent's keys, newest first (never the secret)",
      security: bearerSecurity,
      request: { params: agentIdParam, query: pageQuery },
      responses: {
        200: jsonContent(listOf(agentKey, "AgentKeyList"), "A page of keys"),
        ...errorResponses("unauthenticated", "forbidden", "not_found", "validation_failed"),
      },
    }),
    async (c) =>
      c.json(
        await listKeysOfAgent(c.var.service, c.req.valid("param").id, toPageRequest(c.req.valid("query"))),
        200,
      ),
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/agents/{id}/api-keys/{key_id}",
      tags,
      summary: "Revoke the key now (its next request is 401) and remove its edges",
      security: bearerSecurity,
      request: { params: keyParams },
      responses: {
        204: { description: "Revoked" },
        ...errorResponses("unauthenticated", "forbidden", "not_found"),
      },
    }),
    async (c) => {
      const { id, key_id } = c.req.valid("param");
      await deleteAgentKey(c.var.service, id, key_id);
      return c.body(null, 204);
    },
  );
