// A hot request's statement authenticates its own caller (auth/caller.ts): what it computes in
// SQL must equal what the rest of the app computes in TypeScript, and a key that does not hold
// must change nothing.
import { describe, expect, it } from "vitest";
import { principalSubject } from "../../src/authz/subjects.ts";
import {
  adminToken,
  createAccount,
  createAccountWithPrincipal,
  createPrincipal,
} from "../support/factories.ts";
import { queryRows } from "../support/graph.ts";
import { callAs, createAgent } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";

type Edge = { relation: string; subject_type: string; subject_id: string };

describe("the statement's caller", () => {
  const testApp = useTestApp();
  const edgesOf = (taskId: string) =>
    queryRows<Edge>(
      testApp.database,
      `SELECT relation, subject_type, subject_id FROM authz_relationships
       WHERE resource_type = 'task' AND resource_id = $1 ORDER BY relation`,
      [taskId],
    );

  // Ids whose base64 holds `+` and `/`, needs padding, runs past 76 characters (where PostgreSQL's
  // encoder breaks lines), or is not ASCII.
  const ids = [">>>???", "a", "x".repeat(120), "ünïcødé 😀 <user@example.com>", "svc:urn/with+plus"];

  it.each(ids)("names the principal %j as the graph does, as owner, creator and actor", async (id) => {
    const accountId = await createAccount(testApp.client);
    const principal = await createPrincipal(testApp.client, accountId, {
      id,
      type: id.startsWith("svc") ? "service_account" : "user",
    });
    const agentId = await createAgent(testApp.client, principal);
    const created = await callAs(testApp.client, principal)("POST", "/v1/tasks", {
      agent_id: agentId,
      type: "t",
    });
    expect(created.status).toBe(201);
    expect(created.body.created_by).toEqual({ type: principal.type, id });
    const edges = await edgesOf(created.body.id as string);
    expect(edges).toEqual([
      { relation: "account", subject_type: "account", subject_id: accountId },
      { relation: "owner", subject_type: principal.type, subject_id: principalSubject(principal).id },
      { relation: "parent_agent", subject_type: "agent", subject_id: agentId },
    ]);
    // The owner edge is what the caller's permission check reads: the task is theirs to read.
    const read = await callAs(testApp.client, principal)("GET", `/v1/tasks/${created.body.id}`);
    expect(read.status).toBe(200);
    const events = await callAs(testApp.client, principal)("GET", `/v1/tasks/${created.body.id}/events`);
    expect((events.body.items as { actor: unknown }[])[0]?.actor).toEqual({ type: principal.type, id });
  });

  it("writes the same edges in the create's statement as in its transaction (Idempotency-Key)", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const call = callAs(testApp.client, owner);
    const inStatement = await call("POST", "/v1/tasks", { agent_id: agentId, type: "t" });
    const inTransaction = await call(
      "POST",
      "/v1/tasks",
      { agent_id: agentId, type: "t" },
      { "idempotency-key": crypto.randomUUID() },
    );
    expect([inStatement.status, inTransaction.status]).toEqual([201, 201]);
    const [a, b] = await Promise.all([
      edgesOf(inStatement.body.id as string),
      edgesOf(inTransaction.body.id as string),
    ]);
    expect(a).toHaveLength(3);
    expect(a).toEqual(b);
  });

  it("answers a revoked key 401 on every hot route and changes nothing", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const call = callAs(testApp.client, owner);
    const task = await call("POST", "/v1/tasks", { agent_id: agentId, type: "t" });
    const revoked = await testApp.client.request("DELETE", `/v1/admin/api-keys/${owner.keyId}`, {
      token: adminToken(testApp.client),
    });
    expect(revoked.status).toBe(204);
    const id = task.body.id as string;
    const attempts: [string, string, unknown?][] = [
      ["POST", "/v1/tasks", { agent_id: agentId, type: "t" }],
      ["POST", "/v1/tasks/batch", { agent_id: agentId, tasks: [{ type: "t" }] }],
      ["GET", `/v1/tasks/${id}`],
      ["POST", "/v1/leases", { agent_id: agentId, worker_id: "w" }],
      ["POST", `/v1/tasks/${id}/lease`, { worker_id: "w" }],
      ["POST", `/v1/tasks/${id}/progress`, { progress: 1 }],
      ["POST", `/v1/tasks/${id}/cancel`, { reason: "r" }],
    ];
    for (const [method, path, body] of attempts) {
      const response = await call(method, path, body);
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe('Bearer realm="leasehold"');
    }
    const rows = await queryRows<{ state: string; events: number; tasks: number }>(
      testApp.database,
      `SELECT t.state, (SELECT count(*)::int FROM task_events e WHERE e.task_id = t.id) AS events,
              (SELECT count(*)::int FROM tasks WHERE agent_id = t.agent_id) AS tasks
       FROM tasks t WHERE t.id = $1`,
      [id],
    );
    expect(rows).toEqual([{ state: "submitted", events: 1, tasks: 1 }]);
  });
});
