import { describe, expect, it } from "vitest";
import { runTick } from "../../src/cron/tick.ts";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { edgesNaming, queryRows } from "../support/graph.ts";
import { callAs, createAgent, createTask } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";

describe("retention", () => {
  const testApp = useTestApp();

  it("purges finished tasks older than RETENTION_DAYS with their events and edges, and nothing else", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const call = callAs(testApp.client, owner);
    const old = await createTask(testApp.client, owner, agentId);
    const recent = await createTask(testApp.client, owner, agentId);
    const live = await createTask(testApp.client, owner, agentId);
    for (const id of [old, recent]) await call("POST", `/v1/tasks/${id}/complete`, { result: 1 });
    await queryRows(
      testApp.database,
      "UPDATE tasks SET finished_at = now() - interval '31 days' WHERE id = $1",
      [old],
    );
    await queryRows(
      testApp.database,
      "UPDATE tasks SET created_at = now() - interval '90 days' WHERE id = $1",
      [live],
    );

    const counts = await runTick(testApp.client.env, new Date(), { logSink: () => {} });
    expect(counts.retention).toMatchObject({ purged: 1, batches: 1 });
    expect((await call("GET", `/v1/tasks/${old}`)).status).toBe(404);
    expect(await edgesNaming(testApp.database, old)).toBe(0);
    expect(await queryRows(testApp.database, "SELECT 1 FROM task_events WHERE task_id = $1", [old])).toEqual(
      [],
    );
    for (const id of [recent, live]) expect((await call("GET", `/v1/tasks/${id}`)).status).toBe(200);

    const again = await runTick(testApp.client.env, new Date(), { logSink: () => {} });
    expect(again.retention).toMatchObject({ purged: 0 });
  });
});
