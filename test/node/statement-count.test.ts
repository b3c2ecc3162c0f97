// DESIGN §10: every hot request is exactly one SQL statement, the API-key lookup included, and so
// one round trip on the wire (over HTTP; no dedicated connection). Answers the statement itself
// decides (401, an empty claim, another account's task) are one statement too.
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

  it("runs exactly one statement for each hot request, authentication included", async () => {
    const { statements, openDatabase } = countingDatabase();
    const counting = createTestClient(createApp({ openDatabase }), testApp.client.env);
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const call = callAs(counting, owner);
    const measure = async (label: string, run: () => Promise<{ status: number }>) => {
      statements.length = 0;
      const response = await run();
      expect(response.status, label).toBeLessThan(300);
      return [label, [...statements]] as const;
    };

    const hitl = await createTask(testApp.client, owner, agentId);
    const leased = await createTask(testApp.client, owner, agentId);
    const results = [
      await measure("create", () => call("POST", "/v1/tasks", { agent_id: agentId, type: "t" })),
      await measure("create batch", () =>
        call("POST", "/v1/tasks/batch", { agent_id: agentId, tasks: [{ type: "t" }, { type: "t" }] }),
      ),
      await measure("get", () => call("GET", `/v1/tasks/${hitl}`)),
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
    const drained = await call("POST", "/v1/leases", { agent_id: agentId, worker_id: "d", max_tasks: 100 });
    expect(drained.status).toBe(200);
    results.push(
      await measure("claim (nothing to claim)", () =>
        call("POST", "/v1/leases", { agent_id: agentId, worker_id: "d" }),
      ),
    );
    const counts = Object.fromEntries(results.map(([label, sent]) => [label, sent.length]));
    expect(counts).toEqual(Object.fromEntries(results.map(([label]) => [label, 1])));
    // Each is the statement that authenticates: its first CTE looks the key up.
    for (const [label, [text]] of results) expect(text, label).toMatch(/WITH caller AS MATERIALIZED/);
  });

  it("answers a refusal from the one statement, or from one read after it", async () => {
    const { statements, openDatabase } = countingDatabase();
    const counting = createTestClient(createApp({ openDatabase }), testApp.client.env);
    const owner = await createAccountWithPrincipal(testApp.client);
    const stranger = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const taskId = await createTask(testApp.client, owner, agentId);
    // A wrong secret for a real key; each its own (a rejected token is then answered from the cache).
    const forged = (digit: string) => callAs(counting, { token: `lh_${owner.keyId}_${digit.repeat(64)}` });
    // [label, request, status, statements]: a refusal about an agent takes one read after the
    // statement (its permission predicates in every claim and create would cost more to plan).
    const cases: [string, () => Promise<{ status: number }>, number, number?][] = [
      // Invalid input from a bad key: still 401, the key checked before the 422 is answered.
      [
        "wrong secret, invalid body",
        () => forged("2")("POST", `/v1/tasks/${taskId}/complete`, { result: 1, epoch: "x" }),
        401,
      ],
      [
        "wrong secret, complete",
        () => forged("0")("POST", `/v1/tasks/${taskId}/complete`, { result: 1 }),
        401,
      ],
      [
        "wrong secret, claim",
        () => forged("1")("POST", "/v1/leases", { agent_id: agentId, worker_id: "w" }),
        401,
      ],
      [
        "another account's agent",
        () => callAs(counting, stranger)("POST", "/v1/leases", { agent_id: agentId, worker_id: "w" }),
        404,
        2,
      ],
      ["another account's task", () => callAs(counting, stranger)("GET", `/v1/tasks/${taskId}`), 404],
      [
        "create under another account's agent",
        () => callAs(counting, stranger)("POST", "/v1/tasks", { agent_id: agentId, type: "t" }),
        404,
        2,
      ],
    ];
    for (const [label, run, status, count = 1] of cases) {
      statements.length = 0;
      expect((await run()).status, label).toBe(status);
      expect(statements, label).toHaveLength(count);
    }
    // The forged requests changed nothing: the task is still submitted, with its one event.
    const task = await callAs(testApp.client, owner)("GET", `/v1/tasks/${taskId}`);
    expect(task.body).toMatchObject({ state: "submitted" });
    const events = await callAs(testApp.client, owner)("GET", `/v1/tasks/${taskId}/events`);
    expect((events.body.items as unknown[]).length).toBe(1);
  });
});
