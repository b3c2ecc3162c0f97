import type { TestPrincipal } from "./factories.ts";
import type { TestClient } from "./test-client.ts";

export type Json = Record<string, unknown>;

export function callAs(client: TestClient, principal: TestPrincipal | { token: string }) {
  return (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    client.request<Json>(method, path, {
      token: principal.token,
      ...(body === undefined ? {} : { body }),
      ...(headers ? { headers } : {}),
    });
}

export async function createAgent(
  client: TestClient,
  owner: TestPrincipal,
  name = `agent-${crypto.randomUUID()}`,
) {
  const response = await callAs(client, owner)("POST", "/v1/agents", { name });
  if (response.status !== 201) throw new Error(`agent create failed: ${response.status} ${response.text}`);
  return response.body.id as string;
}

export async function createTask(
  client: TestClient,
  creator: TestPrincipal,
  agentId: string,
  extra: Json = {},
) {
  const response = await callAs(client, creator)("POST", "/v1/tasks", {
    agent_id: agentId,
    type: "summarize",
    ...extra,
  });
  if (response.status !== 201) throw new Error(`task create failed: ${response.status} ${response.text}`);
  return response.body.id as string;
}
