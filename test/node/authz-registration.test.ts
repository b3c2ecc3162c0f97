import { sql } from "drizzle-orm";
// Registration is fail-closed and deregistration complete: no row without its edges, no edge
// without its row.
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { type Authorizer, createPostgresAuthorizer } from "../../src/authz/authorizer.ts";
import { insertRelationships } from "../../src/authz/repo.ts";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { edgesNaming, queryRows } from "../support/graph.ts";
import { callAs, createAgent, createTask } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";
import { createTestClient } from "../support/test-client.ts";

describe("registration and deregistration", () => {
  const testApp = useTestApp();

  const failingClient = (where: "before edges" | "after edges") => {
    const failing = (): Authorizer => {
      const real = createPostgresAuthorizer();
      return {
        ...real,
        // The registration joins the create's transaction, then fails there: nothing may commit.
        register: async (edges) => ({
          persist: async (tx) => {
            if (where === "after edges") await insertRelationships(tx, edges);
            throw new Error(`injected failure ${where}`);
          },
          settle: async () => {},
        }),
        // A create that registers in its own statement: the edges' insert fails inside it, before
        // any edge is written or after every one is; the statement is one, so nothing commits.
        edgesInStatement: (from, edges) =>
          where === "before edges"
            ? real.edgesInStatement?.(
                from,
                edges.map((e) => ({ ...e, subject: { ...e.subject, id: sql`(1/0)::text` } })),
              )
            : sql`${real.edgesInStatement?.(from, edges)} RETURNING 1/0`,
      } as Authorizer;
    };
    return createTestClient(createApp({ authorizer: failing, logSink: () => {} }), testApp.client.env);
  };

  it.each([
    ["before edges", "in the create's statement"],
    ["after edges", "in the create's statement"],
    ["before edges", "in the create's transaction (Idempotency-Key)"],
    ["after edges", "in the create's transaction (Idempotency-Key)"],
  ] as const)(
    "leaves neither row nor edge when registration fails %s the row insert, %s",
    async (where, path) => {
      const owner = await createAccountWithPrincipal(testApp.client);
      const agentId = await createAgent(testApp.client, owner);
      const edgesBefore = await queryRows<{ n: number }>(
        testApp.database,
        "SELECT count(*)::int AS n FROM authz_relationships",
      );
      const headers = path.includes("Idempotency") ? { "idempotency-key": crypto.randomUUID() } : undefined;
      const response = await callAs(failingClient(where), owner)(
        "POST",
        "/v1/tasks",
        { agent_id: agentId, type: "doomed" },
        headers,
      );
      expect(response.status).toBe(500);
      expect(response.body.code).toBe("internal");
      const tasks = await queryRows(testApp.database, "SELECT id FROM tasks WHERE agent_id = $1", [agentId]);
      expect(tasks).toEqual([]);
      const edgesAfter = await queryRows<{ n: number }>(
        testApp.database,
        "SELECT count(*)::int AS n FROM authz_relationships",
      );
      expect(edgesAfter).toEqual(edgesBefore);
      const events = await queryRows(
        testApp.database,
        "SELECT 1 FROM task_events WHERE type = 'created' AND task_id NOT IN (SELECT id FROM tasks)",
      );
      expect(events).toEqual([]);
    },
  );

  it("leaves no agent row behind when its registration fails", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const response = await callAs(failingClient("after edges"), owner)("POST", "/v1/agents", {
      name: "ghost",
    });
    expect(response.status).toBe(500);
    expect(await queryRows(testApp.database, "SELECT id FROM agents WHERE name = 'ghost'")).toEqual([]);
  });

  it("deleting a task removes every edge naming it, grants included", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const id = await createTask(testApp.client, owner, agentId);
    await callAs(testApp.client, owner)("POST", `/v1/tasks/${id}/grants`, {
      subject: { type: "user", id: "v" },
      relation: "viewer",
    });
    expect(await edgesNaming(testApp.database, id)).toBe(4);
    expect((await callAs(testApp.client, owner)("DELETE", `/v1/tasks/${id}`)).status).toBe(204);
    expect(await edgesNaming(testApp.database, id)).toBe(0);
    expect(await queryRows(testApp.database, "SELECT id FROM task_events WHERE task_id = $1", [id])).toEqual(
      [],
    );
  });

  it("refuses to delete an agent with live tasks, then deletes it with its finished tasks and all their edges", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const call = callAs(testApp.client, owner);
    const agentId = await createAgent(testApp.client, owner);
    const done = await createTask(testApp.client, owner, agentId);
    const live = await createTask(testApp.client, owner, agentId);
    await call("POST", `/v1/tasks/${done}/complete`, { result: 1 });
    await call("POST", `/v1/agents/${agentId}/grants`, {
      subject: { type: "user", id: "ed" },
      relation: "editor",
    });

    const refused = await call("DELETE", `/v1/agents/${agentId}`);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe("agent_has_live_tasks");
    expect((await call("GET", `/v1/tasks/${done}`)).status).toBe(200);

    await call("POST", `/v1/tasks/${live}/cancel`, { reason: "cleanup" });
    expect((await call("DELETE", `/v1/agents/${agentId}`)).status).toBe(204);
    expect((await call("GET", `/v1/agents/${agentId}`)).status).toBe(404);
    for (const id of [agentId, done, live]) expect(await edgesNaming(testApp.database, id)).toBe(0);
    expect(await queryRows(testApp.database, "SELECT id FROM tasks WHERE agent_id = $1", [agentId])).toEqual(
      [],
    );
  });

  it("revoking a principal's last key with a role removes that membership", async () => {
    const client = testApp.client;
    const principal = await createAccountWithPrincipal(client, { role: "admin" });
    const memberships = () =>
      queryRows(
        testApp.database,
        "SELECT relation FROM authz_relationships WHERE resource_type = 'account' AND resource_id = $1",
        [principal.accountId],
      );
    expect(await memberships()).toEqual([{ relation: "admin" }]);
    await client.request("DELETE", `/v1/admin/api-keys/${principal.keyId}`, {
      token: client.env.ADMIN_TOKEN as string,
    });
    expect(await memberships()).toEqual([]);
  });
});
