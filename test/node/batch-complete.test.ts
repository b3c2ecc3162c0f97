import { describe, expect, it } from "vitest";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { queryRows } from "../support/graph.ts";
import { eventTypes, expireLease } from "../support/lease-helpers.ts";
import { callAs, createAgent, createTask, type Json } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";

type Granted = { task: { id: string }; lease: { worker_id: string; epoch: number } };

describe("POST /v1/tasks/batch-complete", () => {
  const testApp = useTestApp();

  async function claimed(count: number) {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const call = callAs(testApp.client, owner);
    for (let i = 0; i < count; i++) await createTask(testApp.client, owner, agentId);
    const claim = await call("POST", "/v1/leases", { agent_id: agentId, worker_id: "w", max_tasks: count });
    const items = claim.body.items as Granted[];
    expect(items).toHaveLength(count);
    return { owner, agentId, call, items };
  }

  const completion = (item: Granted, result: unknown = { ok: item.task.id }) => ({
    id: item.task.id,
    worker_id: item.lease.worker_id,
    epoch: item.lease.epoch,
    result,
  });

  it("completes every leased task in request order, with a completed event each", async () => {
    const { call, items } = await claimed(3);
    const response = await call("POST", "/v1/tasks/batch-complete", {
      items: items.map((item) => completion(item)).reverse(),
    });
    expect(response.status).toBe(200);
    const outcomes = response.body.items as { id: string; task: Json }[];
    expect(outcomes.map((outcome) => outcome.id)).toEqual(items.map((item) => item.task.id).reverse());
    for (const outcome of outcomes) {
      expect(outcome.task).toMatchObject({ state: "completed", result: { ok: outcome.id } });
      expect(await eventTypes(testApp.database, outcome.id)).toEqual([
        "created",
        "lease_granted",
        "completed",
      ]);
    }
  });

  it("answers each refused item as the single-task endpoint would, and completes the rest", async () => {
    const { call, items } = await claimed(4);
    const [fresh, stale, again, other] = items as [Granted, Granted, Granted, Granted];
    const { id: _, ...single } = completion(again);
    expect((await call("POST", `/v1/tasks/${again.task.id}/complete`, single)).status).toBe(200);
    await expireLease(testApp.database, stale.task.id);
    const stranger = await claimed(1);
    const foreign = stranger.items[0] as Granted;

    const response = await call("POST", "/v1/tasks/batch-complete", {
      items: [
        completion(fresh),
        completion(stale),
        completion(again),
        { ...completion(other), epoch: other.lease.epoch + 1 },
        completion(foreign),
        { id: "task_missing", worker_id: "w", epoch: 1, result: null },
      ],
    });
    expect(response.status).toBe(200);
    const outcomes = response.body.items as { id: string; task?: Json; error?: Json }[];
    expect(outcomes[0]?.task).toMatchObject({ state: "completed" });
    expect(outcomes[1]?.error).toMatchObject({ status: 409, code: "lease_lost", state: "working" });
    expect(outcomes[2]?.task).toMatchObject({ state: "completed", result: { ok: again.task.id } });
    expect(outcomes[3]?.error).toMatchObject({ status: 409, code: "lease_lost" });
    expect(outcomes[4]?.error).toMatchObject({ status: 404, code: "not_found" });
    expect(outcomes[5]?.error).toMatchObject({ status: 404, code: "not_found" });
    expect(await eventTypes(testApp.database, stale.task.id)).toEqual([
      "created",
      "lease_granted",
      "stale_lease_rejected",
    ]);
    const [foreignRow] = await queryRows<{ state: string }>(
      testApp.database,
      "SELECT state FROM tasks WHERE id = $1",
      [foreign.task.id],
    );
    expect(foreignRow?.state).toBe("working");
  });

  it("refuses duplicate ids and oversized batches with 422, changing nothing", async () => {
    const { call, items } = await claimed(1);
    const item = completion(items[0] as Granted);
    const duplicate = await call("POST", "/v1/tasks/batch-complete", { items: [item, item] });
    expect(duplicate.status).toBe(422);
    expect(duplicate.body.errors).toEqual([
      { location: "body", pointer: "/items/1/id", message: "Listed twice." },
    ]);
    const tooMany = await call("POST", "/v1/tasks/batch-complete", {
      items: Array.from({ length: 101 }, (_, i) => ({ ...item, id: `task_${i}` })),
    });
    expect(tooMany.status).toBe(422);
    const missingEpoch = await call("POST", "/v1/tasks/batch-complete", {
      items: [{ id: item.id, worker_id: "w" }],
    });
    expect(missingEpoch.status).toBe(422);
    const [row] = await queryRows<{ state: string }>(
      testApp.database,
      "SELECT state FROM tasks WHERE id = $1",
      [item.id],
    );
    expect(row?.state).toBe("working");
  });
});
