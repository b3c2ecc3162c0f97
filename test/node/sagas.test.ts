import { describe, expect, it } from "vitest";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { eventTypes, expireLease } from "../support/lease-helpers.ts";
import { callAs, createAgent, createTask, type Json } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";

describe("sagas", () => {
  const testApp = useTestApp();

  /** A task that did two undoable things and then failed: it is compensating, with steps 1 and 2. */
  async function failedWithTwoSteps(options: Json = {}) {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const call = callAs(testApp.client, owner);
    const id = await createTask(testApp.client, owner, agentId, options);
    await call("POST", "/v1/leases", { agent_id: agentId, worker_id: "w", lease_seconds: 60 });
    const token = { worker_id: "w", epoch: 1 };
    const first = await call("POST", `/v1/tasks/${id}/compensations`, {
      kind: "refund",
      target: "charge_1",
      payload: { cents: 500 },
      ...token,
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ seq: 1, status: "pending" });
    await call("POST", `/v1/tasks/${id}/compensations`, { kind: "release", target: "seat_9", ...token });
    const failed = await call("POST", `/v1/tasks/${id}/fail`, { error: "payment api down", ...token });
    expect(failed.body).toMatchObject({ state: "compensating", a2a_state: "WORKING", lease: null });
    return { id, agentId, call };
  }

  const claimCompensation = async (call: ReturnType<typeof callAs>, agentId: string, worker: string) =>
    (
      await call("POST", "/v1/leases", {
        agent_id: agentId,
        worker_id: worker,
        lease_seconds: 60,
        purposes: ["compensation"],
      })
    ).body.items as { task: Json & { compensations: Json[] }; lease: { epoch: number } }[];

  it("undoes the steps in reverse order and ends compensated", async () => {
    const { id, agentId, call } = await failedWithTwoSteps();
    expect(await claimCompensation(call, agentId, "plain")).toHaveLength(1);
    await call("POST", `/v1/tasks/${id}/release`, { worker_id: "plain", epoch: 2 });
    const normalClaim = (await call("POST", "/v1/leases", { agent_id: agentId, worker_id: "x" })).body.items;
    expect(normalClaim).toEqual([]);

    const [work] = await claimCompensation(call, agentId, "undoer");
    expect(work?.task.state).toBe("compensating");
    expect(work?.task.compensations.map((step) => [step.seq, step.kind, step.target])).toEqual([
      [2, "release", "seat_9"],
      [1, "refund", "charge_1"],
    ]);
    const token = { worker_id: "undoer", epoch: work?.lease.epoch };
    const outOfOrder = await call("POST", `/v1/tasks/${id}/compensations/1/done`, token);
    expect(outOfOrder.status).toBe(409);
    expect(outOfOrder.body.code).toBe("invalid_state");
    expect((await call("POST", `/v1/tasks/${id}/compensations/2/done`, token)).body.state).toBe(
      "compensating",
    );
    const last = await call("POST", `/v1/tasks/${id}/compensations/1/done`, {
      ...token,
      result: { refunded: true },
    });
    expect(last.body).toMatchObject({ state: "compensated", a2a_state: "FAILED" });
    const acquire = await call("POST", `/v1/tasks/${id}/lease`, { worker_id: "again", lease_seconds: 30 });
    expect(acquire.body).toMatchObject({ code: "task_terminal", state: "compensated" });
    const beat = await call("POST", `/v1/tasks/${id}/heartbeat`, { ...token, lease_seconds: 60 });
    expect(beat.body).toMatchObject({ code: "task_terminal", state: "compensated" });
    expect(await eventTypes(testApp.database, id)).toEqual(
      expect.arrayContaining(["compensation_recorded", "failed", "compensation_done"]),
    );
  });

  it("quarantines when a step fails for good, and keeps a retryable failure pending", async () => {
    const { id, agentId, call } = await failedWithTwoSteps();
    const [work] = await claimCompensation(call, agentId, "undoer");
    const token = { worker_id: "undoer", epoch: work?.lease.epoch };
    const retry = await call("POST", `/v1/tasks/${id}/compensations/2/failed`, {
      ...token,
      error: "timeout",
      retryable: true,
    });
    expect(retry.body.state).toBe("compensating");
    const forGood = await call("POST", `/v1/tasks/${id}/compensations/2/failed`, {
      ...token,
      error: "seat gone",
    });
    expect(forGood.body).toMatchObject({ state: "quarantined", a2a_state: "FAILED" });
    const acquire = await call("POST", `/v1/tasks/${id}/lease`, { worker_id: "again", lease_seconds: 30 });
    expect(acquire.body).toMatchObject({ code: "task_terminal", state: "quarantined" });
    const beat = await call("POST", `/v1/tasks/${id}/heartbeat`, { ...token, lease_seconds: 60 });
    expect(beat.body).toMatchObject({ code: "task_terminal", state: "quarantined" });
    expect((await call("POST", `/v1/tasks/${id}/redrive`)).status).toBe(201);
  });

  it("quarantines when compensation attempts run out", async () => {
    const { id, agentId, call } = await failedWithTwoSteps({ max_attempts: 2 });
    for (const worker of ["u1", "u2"]) {
      expect(await claimCompensation(call, agentId, worker)).toHaveLength(1);
      await expireLease(testApp.database, id);
    }
    const { runTick } = await import("../../src/cron/tick.ts");
    await runTick(testApp.client.env, new Date(), { logSink: () => {} });
    expect((await call("GET", `/v1/tasks/${id}`)).body.state).toBe("quarantined");
  });

  it("never reaches failed with steps pending: exhausted retries go to compensating", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const call = callAs(testApp.client, owner);
    const id = await createTask(testApp.client, owner, agentId, { max_attempts: 1 });
    await call("POST", "/v1/leases", { agent_id: agentId, worker_id: "w", lease_seconds: 60 });
    await call("POST", `/v1/tasks/${id}/compensations`, { kind: "k", target: "t", worker_id: "w", epoch: 1 });
    const failed = await call("POST", `/v1/tasks/${id}/fail`, {
      error: "x",
      retryable: true,
      worker_id: "w",
      epoch: 1,
    });
    expect(failed.body.state).toBe("compensating");
  });

  it("lets only the leaseholder record steps", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const call = callAs(testApp.client, owner);
    const id = await createTask(testApp.client, owner, agentId);
    await call("POST", "/v1/leases", { agent_id: agentId, worker_id: "w", lease_seconds: 60 });
    const stale = await call("POST", `/v1/tasks/${id}/compensations`, {
      kind: "k",
      target: "t",
      worker_id: "other",
      epoch: 1,
    });
    expect(stale.body.code).toBe("lease_lost");
  });
});
