import { describe, expect, it } from "vitest";
import { createAccountWithPrincipal, createPrincipal } from "../support/factories.ts";
import { ageHeartbeat, eventTypes, expireLease } from "../support/lease-helpers.ts";
import { callAs, createAgent, createTask, type Json } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";

describe("leases", () => {
  const testApp = useTestApp();
  async function setup() {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const call = callAs(testApp.client, owner);
    const claim = async (worker: string, extra: Json = {}) =>
      (
        await call("POST", "/v1/leases", {
          agent_id: agentId,
          worker_id: worker,
          lease_seconds: 60,
          ...extra,
        })
      ).body.items as { task: Json; lease: { worker_id: string; epoch: number; expires_at: string } }[];
    return { owner, agentId, call, claim };
  }

  it("claims by priority then age, up to max_tasks, each with a new epoch and attempt", async () => {
    const { owner, agentId, claim } = await setup();
    const low = await createTask(testApp.client, owner, agentId, { priority: 0 });
    const high = await createTask(testApp.client, owner, agentId, { priority: 5 });
    const low2 = await createTask(testApp.client, owner, agentId, { priority: 0 });
    const first = await claim("w1", { max_tasks: 2 });
    expect(first.map((item) => item.task.id)).toEqual([high, low]);
    for (const item of first) {
      expect(item.task).toMatchObject({ state: "working", attempts: 1 });
      expect(item.lease).toMatchObject({ worker_id: "w1", epoch: 1 });
    }
    expect((await claim("w2", { max_tasks: 5 })).map((item) => item.task.id)).toEqual([low2]);
    expect(await claim("w3")).toEqual([]);
    expect(await eventTypes(testApp.database, high)).toEqual(["created", "lease_granted"]);
  });

  it("filters claims by type, and refuses agents the caller cannot execute", async () => {
    const { owner, agentId, claim } = await setup();
    const email = await createTask(testApp.client, owner, agentId, { type: "email" });
    await createTask(testApp.client, owner, agentId, { type: "sms" });
    expect((await claim("w", { types: ["email"], max_tasks: 10 })).map((item) => item.task.id)).toEqual([
      email,
    ]);
    const viewer = await createPrincipal(testApp.client, owner.accountId);
    await callAs(testApp.client, owner)("POST", `/v1/agents/${agentId}/grants`, {
      subject: { type: "user", id: viewer.id },
      relation: "viewer",
    });
    const asViewer = await callAs(testApp.client, viewer)("POST", "/v1/leases", {
      agent_id: agentId,
      worker_id: "w",
    });
    expect(asViewer.status).toBe(403);
    const stranger = await createAccountWithPrincipal(testApp.client, { role: "admin" });
    expect(
      (await callAs(testApp.client, stranger)("POST", "/v1/leases", { agent_id: agentId, worker_id: "w" }))
        .status,
    ).toBe(404);
  });

  it("refuses TTLs outside the configured bounds with 422", async () => {
    const { agentId, call } = await setup();
    for (const lease_seconds of [0, 3601]) {
      const response = await call("POST", "/v1/leases", { agent_id: agentId, worker_id: "w", lease_seconds });
      expect(response.status).toBe(422);
    }
  });

  it("refuses to acquire a task whose lease is live, leaving the lease unchanged", async () => {
    const { owner, agentId, call } = await setup();
    const id = await createTask(testApp.client, owner, agentId);
    const first = await call("POST", `/v1/tasks/${id}/lease`, { worker_id: "a", lease_seconds: 60 });
    expect(first.body.lease).toMatchObject({ worker_id: "a", epoch: 1 });
    const second = await call("POST", `/v1/tasks/${id}/lease`, { worker_id: "b", lease_seconds: 60 });
    expect(second.status).toBe(409);
    expect(second.body.code).toBe("lease_held");
    expect((await call("GET", `/v1/tasks/${id}`)).body.lease).toEqual((first.body as { lease: Json }).lease);
  });

  it("lets another worker take an expired lease; the old holder is fenced off and recorded", async () => {
    const { owner, agentId, call, claim } = await setup();
    const id = await createTask(testApp.client, owner, agentId);
    const [dead] = await claim("dead-worker");
    await expireLease(testApp.database, id);
    const [alive] = await claim("live-worker");
    expect(alive?.task.id).toBe(id);
    expect(alive?.lease.epoch).toBe(2);
    expect(alive?.task.attempts).toBe(2);
    const late = await call("POST", `/v1/tasks/${id}/complete`, {
      result: "late",
      worker_id: "dead-worker",
      epoch: dead?.lease.epoch,
    });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe("lease_lost");
    const task = (await call("GET", `/v1/tasks/${id}`)).body;
    expect(task).toMatchObject({
      state: "working",
      result: null,
      lease: { worker_id: "live-worker", epoch: 2 },
    });
    expect((await eventTypes(testApp.database, id)).at(-1)).toBe("stale_lease_rejected");
    const done = await call("POST", `/v1/tasks/${id}/complete`, {
      result: "ok",
      worker_id: "live-worker",
      epoch: 2,
    });
    expect(done.body.state).toBe("completed");
  });

  it("requires the lease for a leased task: a person gets lease_held", async () => {
    const { owner, agentId, call, claim } = await setup();
    const id = await createTask(testApp.client, owner, agentId);
    await claim("w");
    const response = await call("POST", `/v1/tasks/${id}/complete`, { result: 1 });
    expect(response.body.code).toBe("lease_held");
  });

  it("heartbeats extend the lease, rate-limited to TTL/6, and only for the holder", async () => {
    const { owner, agentId, call, claim } = await setup();
    const id = await createTask(testApp.client, owner, agentId);
    const [granted] = await claim("w");
    const beat = (body: Json) =>
      // A long TTL makes "too soon" hold however slowly this machine runs (TTL/6 = 10 minutes).
      call("POST", `/v1/tasks/${id}/heartbeat`, { worker_id: "w", epoch: 1, lease_seconds: 3600, ...body });
    const tooSoon = await beat({});
    expect(tooSoon.status).toBe(429);
    expect(Number(tooSoon.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    await ageHeartbeat(testApp.database, id);
    const ok = await beat({ progress: { pct: 30 } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ epoch: 1, cancel_requested: false });
    expect(Date.parse(ok.body.expires_at as string)).toBeGreaterThanOrEqual(
      Date.parse(granted?.lease.expires_at as string),
    );
    expect((await call("GET", `/v1/tasks/${id}`)).body.progress).toEqual({ pct: 30 });

    await ageHeartbeat(testApp.database, id);
    const before = (await call("GET", `/v1/tasks/${id}`)).body.lease;
    for (const body of [{ worker_id: "other" }, { epoch: 7 }, { lease_seconds: 5 }]) {
      const refused = await beat(body);
      expect(refused.status, JSON.stringify(body)).toBe(409);
    }
    expect((await call("GET", `/v1/tasks/${id}`)).body.lease).toEqual(before);
    await expireLease(testApp.database, id);
    expect((await beat({})).body.code).toBe("lease_lost");
  });

  it("refuses a heartbeat for a task nobody has leased, recording the attempt", async () => {
    const { owner, agentId, call } = await setup();
    const id = await createTask(testApp.client, owner, agentId);
    const beat = await call("POST", `/v1/tasks/${id}/heartbeat`, {
      worker_id: "w",
      epoch: 0,
      lease_seconds: 60,
    });
    expect(beat.status).toBe(409);
    expect(beat.body.code).toBe("lease_lost");
    expect((await call("GET", `/v1/tasks/${id}`)).body).toMatchObject({ state: "submitted", lease: null });
    expect(await eventTypes(testApp.database, id)).toEqual(["created", "stale_lease_rejected"]);
  });

  it("tells the leaseholder of a canceled task to stop", async () => {
    const { owner, agentId, call, claim } = await setup();
    const id = await createTask(testApp.client, owner, agentId);
    await claim("w");
    await call("POST", `/v1/tasks/${id}/cancel`, { reason: "user asked" });
    const beat = await call("POST", `/v1/tasks/${id}/heartbeat`, {
      worker_id: "w",
      epoch: 1,
      lease_seconds: 60,
    });
    expect(beat.status).toBe(200);
    expect(beat.body.cancel_requested).toBe(true);
    expect((await call("POST", `/v1/tasks/${id}/heartbeat`, { worker_id: "x", epoch: 1 })).body.code).toBe(
      "task_terminal",
    );
  });

  it("refuses to acquire or heartbeat a task in any terminal state", async () => {
    const { owner, agentId, call } = await setup();
    const finish: Record<string, (id: string) => Promise<unknown>> = {
      completed: (id) => call("POST", `/v1/tasks/${id}/complete`, { result: 1 }),
      failed: (id) => call("POST", `/v1/tasks/${id}/fail`, { error: 1 }),
      canceled: (id) => call("POST", `/v1/tasks/${id}/cancel`, { reason: "x" }),
    };
    for (const [state, end] of Object.entries(finish)) {
      const id = await createTask(testApp.client, owner, agentId);
      await end(id);
      const acquire = await call("POST", `/v1/tasks/${id}/lease`, { worker_id: "w", lease_seconds: 30 });
      expect(acquire.body).toMatchObject({ code: "task_terminal", state });
      const beat = await call("POST", `/v1/tasks/${id}/heartbeat`, { worker_id: "w", epoch: 0 });
      expect(beat.body).toMatchObject({ code: "task_terminal", state });
    }
  });

  it("releases the lease: the task is claimable again and the attempt is not counted", async () => {
    const { owner, agentId, call, claim } = await setup();
    const id = await createTask(testApp.client, owner, agentId);
    await claim("w1");
    const released = await call("POST", `/v1/tasks/${id}/release`, { worker_id: "w1", epoch: 1 });
    expect(released.body).toMatchObject({ state: "submitted", lease: null, attempts: 0 });
    const [again] = await claim("w2");
    expect(again?.lease.epoch).toBe(2);
    expect((await call("POST", `/v1/tasks/${id}/release`, { worker_id: "w1", epoch: 1 })).body.code).toBe(
      "lease_lost",
    );
  });

  it("quarantines a task whose leases keep expiring, and redrives it", async () => {
    const { owner, agentId, call, claim } = await setup();
    const id = await createTask(testApp.client, owner, agentId, { max_attempts: 2 });
    for (let attempt = 1; attempt <= 2; attempt++) {
      await claim(`w${attempt}`);
      await expireLease(testApp.database, id);
    }
    expect((await call("GET", `/v1/tasks?stale=true`)).body.items).toHaveLength(1);
    const { runTick } = await import("../../src/cron/tick.ts");
    const counts = await runTick(testApp.client.env, new Date(), { logSink: () => {} });
    expect(counts.reclaim?.quarantined).toBeGreaterThanOrEqual(1);
    expect((await call("GET", `/v1/tasks/${id}`)).body).toMatchObject({
      state: "quarantined",
      a2a_state: "FAILED",
    });
    expect((await call("GET", `/v1/tasks?stale=true`)).body.items).toHaveLength(0);
    const redriven = await call("POST", `/v1/tasks/${id}/redrive`);
    expect(redriven.status).toBe(201);
    expect(redriven.body).toMatchObject({
      state: "submitted",
      redriven_from: id,
      attempts: 0,
      max_attempts: 2,
    });
    expect((await call("POST", `/v1/tasks/${redriven.body.id}/redrive`)).body.code).toBe("invalid_state");
  });
});
