import { describe, expect, it } from "vitest";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { edgesNaming, queryRows } from "../support/graph.ts";
import { callAs, createAgent } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";

describe("batch create", () => {
  const testApp = useTestApp();

  it("creates up to 1,000 tasks in request order, each registered and with its event", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const call = callAs(testApp.client, owner);
    const tasks = Array.from({ length: 1000 }, (_, i) => ({ type: "bulk", input: { i }, priority: i % 3 }));
    const response = await call("POST", "/v1/tasks/batch", { agent_id: agentId, tasks });
    expect(response.status).toBe(201);
    const items = response.body.items as { id: string; input: { i: number }; created_by: unknown }[];
    expect(items.map((item) => item.input.i)).toEqual(tasks.map((_, i) => i));
    expect(items[0]?.created_by).toEqual({ type: "user", id: owner.id });
    expect(await edgesNaming(testApp.database, items[999]?.id as string)).toBe(3);
    const events = await queryRows<{ n: number }>(
      testApp.database,
      "SELECT count(*)::int AS n FROM task_events WHERE task_id = ANY($1)",
      [items.map((item) => item.id)],
    );
    expect(events[0]?.n).toBe(1000);
    expect(
      (await call("POST", "/v1/tasks/batch", { agent_id: agentId, tasks: [...tasks, { type: "x" }] })).status,
    ).toBe(422);
  });

  it("creates none when one name is taken, and replays by Idempotency-Key", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const call = callAs(testApp.client, owner);
    await call("POST", "/v1/tasks", { agent_id: agentId, type: "t", name: "taken" });
    const clash = await call("POST", "/v1/tasks/batch", {
      agent_id: agentId,
      tasks: [
        { type: "t", name: "fresh" },
        { type: "t", name: "taken" },
      ],
    });
    expect(clash.body.code).toBe("name_taken");
    expect((await call("GET", "/v1/tasks/by-name/fresh")).status).toBe(404);
    const headers = { "idempotency-key": "batch-1" };
    const body = { agent_id: agentId, tasks: [{ type: "t" }, { type: "u" }] };
    const first = await call("POST", "/v1/tasks/batch", body, headers);
    const replay = await call("POST", "/v1/tasks/batch", body, headers);
    expect(replay.body).toEqual(first.body);
    expect(((await call("GET", `/v1/tasks?agent_id=${agentId}`)).body.items as unknown[]).length).toBe(3);
  });

  it("refuses an agent the caller cannot create tasks on, creating nothing", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const stranger = await createAccountWithPrincipal(testApp.client, { role: "admin" });
    const agentId = await createAgent(testApp.client, owner);
    const response = await callAs(testApp.client, stranger)("POST", "/v1/tasks/batch", {
      agent_id: agentId,
      tasks: [{ type: "t" }],
    });
    expect(response.status).toBe(404);
    expect(await queryRows(testApp.database, "SELECT 1 FROM tasks WHERE agent_id = $1", [agentId])).toEqual(
      [],
    );
  });
});
