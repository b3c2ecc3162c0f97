// Agent API keys (DESIGN §2): a worker key drives its own agent's tasks and nothing else, is
// created with its edges and revoked with them.
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { type Authorizer, createPostgresAuthorizer } from "../../src/authz/authorizer.ts";
import { insertRelationships } from "../../src/authz/repo.ts";
import { createAccountWithPrincipal, createPrincipal } from "../support/factories.ts";
import { edgesNaming, queryRows } from "../support/graph.ts";
import { callAs, createAgent, createTask, type Json } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";
import { createTestClient } from "../support/test-client.ts";

describe("agent API keys", () => {
  const testApp = useTestApp();
  const workerEdges = (agentId: string) =>
    queryRows<{ n: number }>(
      testApp.database,
      "SELECT count(*)::int AS n FROM authz_relationships WHERE resource_type = 'agent' AND resource_id = $1 AND relation = 'worker'",
      [agentId],
    ).then((rows) => rows[0]?.n);

  async function withKey() {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const created = await callAs(testApp.client, owner)("POST", `/v1/agents/${agentId}/api-keys`);
    expect(created.status).toBe(201);
    const key = created.body as Json & { id: string; key: string };
    return { owner, agentId, key, asWorker: callAs(testApp.client, { token: key.key }) };
  }

  it("creates a key whose principal is its own service account, listed without the secret", async () => {
    const { owner, agentId, key, asWorker } = await withKey();
    expect(key).toMatchObject({
      agent_id: agentId,
      principal: { type: "service_account", id: key.id },
      created_by: { type: owner.type, id: owner.id },
      revoked_at: null,
    });
    expect(key.key).toMatch(new RegExp(`^lh_${key.id}_`));
    expect((await asWorker("GET", "/v1/principal")).body).toMatchObject({
      type: "service_account",
      id: key.id,
    });
    const list = await callAs(testApp.client, owner)("GET", `/v1/agents/${agentId}/api-keys`);
    const { key: _secret, ...view } = key;
    expect(list.body.items).toEqual([view]);
    expect(JSON.stringify(list.body)).not.toContain(key.key);
    expect(await edgesNaming(testApp.database, key.id)).toBe(3);
    expect(await workerEdges(agentId)).toBe(1);
  });

  it("claims and completes its agent's tasks, and gets 404 on another agent's", async () => {
    const { owner, agentId, asWorker } = await withKey();
    const taskId = await createTask(testApp.client, owner, agentId);
    const claim = await asWorker("POST", "/v1/leases", { agent_id: agentId, worker_id: "w" });
    const [item] = claim.body.items as { task: { id: string }; lease: { epoch: number } }[];
    expect(item?.task.id).toBe(taskId);
    const done = await asWorker("POST", `/v1/tasks/${taskId}/complete`, {
      result: "ok",
      worker_id: "w",
      epoch: item?.lease.epoch,
    });
    expect(done.body).toMatchObject({ state: "completed" });

    const otherAgent = await createAgent(testApp.client, owner);
    const otherTask = await createTask(testApp.client, owner, otherAgent);
    expect((await asWorker("POST", "/v1/leases", { agent_id: otherAgent, worker_id: "w" })).status).toBe(404);
    expect((await asWorker("GET", `/v1/tasks/${otherTask}`)).status).toBe(404);
    expect((await asWorker("POST", "/v1/agents", { name: "not-mine" })).status).toBe(403);
  });

  it("revokes on delete: the next call is 401 and no edge names the key", async () => {
    const { owner, agentId, key, asWorker } = await withKey();
    const deleted = await callAs(testApp.client, owner)("DELETE", `/v1/agents/${agentId}/api-keys/${key.id}`);
    expect(deleted.status).toBe(204);
    expect((await asWorker("GET", "/v1/principal")).status).toBe(401);
    expect(await edgesNaming(testApp.database, key.id)).toBe(0);
    expect(await workerEdges(agentId)).toBe(0);
    const list = await callAs(testApp.client, owner)("GET", `/v1/agents/${agentId}/api-keys`);
    expect(list.body.items).toMatchObject([{ id: key.id, revoked_at: expect.any(String) }]);
  });

  it("replays an Idempotency-Key with the same key and no secret", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const call = callAs(testApp.client, owner);
    const headers = { "idempotency-key": "key-1" };
    const first = await call("POST", `/v1/agents/${agentId}/api-keys`, undefined, headers);
    const again = await call("POST", `/v1/agents/${agentId}/api-keys`, undefined, headers);
    expect(again.status).toBe(201);
    expect(again.body).toEqual({ ...first.body, key: null });
    const stored = await queryRows<{ body: string }>(
      testApp.database,
      "SELECT response_body::text AS body FROM idempotency_keys",
    );
    expect(stored.map((row) => row.body).join()).not.toContain(first.body.key as string);
  });

  it("lets only the agent's managers create keys: a viewer gets 403, another account 404", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const viewer = await createPrincipal(testApp.client, owner.accountId);
    await callAs(testApp.client, owner)("POST", `/v1/agents/${agentId}/grants`, {
      subject: { type: "user", id: viewer.id },
      relation: "viewer",
    });
    expect((await callAs(testApp.client, viewer)("POST", `/v1/agents/${agentId}/api-keys`)).status).toBe(403);
    const stranger = await createAccountWithPrincipal(testApp.client, { role: "admin" });
    expect((await callAs(testApp.client, stranger)("POST", `/v1/agents/${agentId}/api-keys`)).status).toBe(
      404,
    );
    const rows = await queryRows(testApp.database, "SELECT id FROM api_keys WHERE agent_id = $1", [agentId]);
    expect(rows).toEqual([]);
  });

  it.each(["before", "after"] as const)(
    "leaves no key and no edge when registration fails %s writing its edges",
    async (when) => {
      const owner = await createAccountWithPrincipal(testApp.client);
      const agentId = await createAgent(testApp.client, owner);
      const failing = (): Authorizer => ({
        ...createPostgresAuthorizer(),
        // The registration joins the create's transaction, then fails there: nothing may commit.
        register: async (edges) => ({
          persist: async (tx) => {
            if (when === "after") await insertRelationships(tx, edges);
            throw new Error(`injected failure ${when} the edges`);
          },
          settle: async () => {},
        }),
      });
      const client = createTestClient(
        createApp({ authorizer: failing, logSink: () => {} }),
        testApp.client.env,
      );
      const response = await callAs(client, owner)("POST", `/v1/agents/${agentId}/api-keys`);
      expect(response.status).toBe(500);
      expect(
        await queryRows(testApp.database, "SELECT id FROM api_keys WHERE agent_id = $1", [agentId]),
      ).toEqual([]);
      expect(await workerEdges(agentId)).toBe(0);
      expect(
        await queryRows(
          testApp.database,
          "SELECT 1 FROM authz_relationships WHERE resource_type = 'api_key' AND subject_id = $1",
          [agentId],
        ),
      ).toEqual([]);
    },
  );

  it("revokes an agent's keys and removes their edges when the agent is deleted", async () => {
    const { owner, agentId, key, asWorker } = await withKey();
    expect((await callAs(testApp.client, owner)("DELETE", `/v1/agents/${agentId}`)).status).toBe(204);
    expect((await asWorker("GET", "/v1/principal")).status).toBe(401);
    expect(await edgesNaming(testApp.database, key.id)).toBe(0);
  });
});
