// DESIGN §10: every task transition is exactly one SQL statement. Each request here also runs
// one statement to authenticate its API key, so a transition request costs exactly two.
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { countingDatabase } from "../support/counting-database.ts";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { ageHeartbeat } from "../support/lease-helpers.ts";
import { callAs, createAgent, createTask } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";
import { createTestClient } from "../support/test-client.ts";

describe("statements per transition", () => {
  const testApp = useTestApp();

  it("runs authentication plus exactly one statement for each transition", async () => {
    const { statements, openDatabase } = countingDatabase();
    const counting = createTestClient(createApp({ openDatabase }), testApp.client.env);
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const call = callAs(counting, owner);
    const measure = async (label: string, run: () => Promise<{ status: number }>) => {
      statements.length = 0;
      const response = await run();
      expect(response.status, label).toBeLessThan(300);
      return [label, statements.length] as const;
    };

    const hitl = await createTask(testApp.client, owner, agentId);
    const leased = await createTask(testApp.client, owner, agentId);
    const results = [
      await measure("progress", () => call("POST", `/v1/tasks/${hitl}/progress`, { progress: 1 })),
      await measure("input-required", () =>
        call("POST", `/v1/tasks/${hitl}/input-required`, { prompt: "?" }),
      ),
      await measure("input", () => call("POST", `/v1/tasks/${hitl}/input`, { input: "!" })),
      await measure("cancel", () => call("POST", `/v1/tasks/${hitl}/cancel`, { reason: "r" })),
      await measure("claim", () =>
        call("POST", "/v1/leases", { agent_id: agentId, worker_id: "w", lease_seconds: 60 }),
      ),
    ];
    await ageHeartbeat(testApp.database, leased);
    results.push(
      await measure("heartbeat", () =>
        call("POST", `/v1/tasks/${leased}/heartbeat`, { worker_id: "w", epoch: 1, lease_seconds: 60 }),
      ),
      await measure("release", () =>
        call("POST", `/v1/tasks/${leased}/release`, { worker_id: "w", epoch: 1 }),
      ),
      await measure("acquire", () =>
        call("POST", `/v1/tasks/${leased}/lease`, { worker_id: "w", lease_seconds: 60 }),
      ),
      await measure("fail (retryable)", () =>
        call("POST", `/v1/tasks/${leased}/fail`, { error: 1, retryable: true, worker_id: "w", epoch: 2 }),
      ),
      await measure("complete", () => call("POST", `/v1/tasks/${leased}/complete`, { result: 1 })),
    );
    for (let i = 0; i < 3; i++) await createTask(testApp.client, owner, agentId);
    const batch = await call("POST", "/v1/leases", { agent_id: agentId, worker_id: "b", max_tasks: 3 });
    const items = (batch.body.items as { task: { id: string }; lease: { epoch: number } }[]).map((item) => ({
      id: item.task.id,
      worker_id: "b",
      epoch: item.lease.epoch,
      result: null,
    }));
    expect(items).toHaveLength(3);
    results.push(
      await measure("batch-complete (3 tasks)", () => call("POST", "/v1/tasks/batch-complete", { items })),
    );
    expect(Object.fromEntries(results)).toEqual(Object.fromEntries(results.map(([label]) => [label, 2])));
  });
});
