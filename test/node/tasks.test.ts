import { describe, expect, it } from "vitest";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { callAs, createAgent, createTask } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";

describe("tasks", () => {
  const testApp = useTestApp();
  async function setup() {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const call = callAs(testApp.client, owner);
    return { owner, agentId, call };
  }
  const eventTypes = async (call: ReturnType<typeof callAs>, id: string) =>
    ((await call("GET", `/v1/tasks/${id}/events`)).body.items as { type: string }[]).map(
      (event) => event.type,
    );

  it("creates a task that shows its creator, A2A state and defaults", async () => {
    const { owner, agentId, call } = await setup();
    const created = await call("POST", "/v1/tasks", {
      agent_id: agentId,
      type: "summarize",
      name: "t-1",
      input: { doc: 1 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      agent_id: agentId,
      type: "summarize",
      name: "t-1",
      state: "submitted",
      a2a_state: "SUBMITTED",
      input: { doc: 1 },
      attempts: 0,
      max_attempts: 5,
      lease: null,
      created_by: { type: "user", id: owner.id },
    });
    const byName = await call("GET", "/v1/tasks/by-name/t-1");
    expect(byName.body).toEqual((await call("GET", `/v1/tasks/${created.body.id}`)).body);
    expect(await eventTypes(call, created.body.id as string)).toEqual(["created"]);
  });

  it("completes once; an equal re-send is 200 unchanged, a different one 409 result_conflict", async () => {
    const { owner, agentId, call } = await setup();
    const task = await createTask(testApp.client, owner, agentId);
    const first = await call("POST", `/v1/tasks/${task}/complete`, { result: { a: 1, b: [1, 2] } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      state: "completed",
      a2a_state: "COMPLETED",
      result: { a: 1, b: [1, 2] },
    });
    const same = await call("POST", `/v1/tasks/${task}/complete`, { result: { b: [1, 2], a: 1 } });
    expect(same.status).toBe(200);
    expect(same.body.updated_at).toBe(first.body.updated_at);
    const different = await call("POST", `/v1/tasks/${task}/complete`, { result: { a: 2 } });
    expect(different.status).toBe(409);
    expect(different.body).toMatchObject({ code: "result_conflict", state: "completed" });
    const fail = await call("POST", `/v1/tasks/${task}/fail`, { error: "late" });
    expect(fail.status).toBe(409);
    expect(fail.body).toMatchObject({ code: "task_terminal", state: "completed" });
    const progress = await call("POST", `/v1/tasks/${task}/progress`, { progress: 50 });
    expect(progress.status).toBe(409);
    expect(progress.body.code).toBe("task_terminal");
    expect((await call("GET", `/v1/tasks/${task}`)).body).toMatchObject({
      state: "completed",
      progress: null,
      result: { a: 1, b: [1, 2] },
    });
    expect(await eventTypes(call, task)).toEqual(["created", "completed"]);
  });

  it("moves submitted → working on progress, and records each report", async () => {
    const { owner, agentId, call } = await setup();
    const id = await createTask(testApp.client, owner, agentId);
    const first = await call("POST", `/v1/tasks/${id}/progress`, { progress: { pct: 10 } });
    expect(first.body).toMatchObject({ state: "working", a2a_state: "WORKING", progress: { pct: 10 } });
    await call("POST", `/v1/tasks/${id}/progress`, { progress: { pct: 60 } });
    expect(await eventTypes(call, id)).toEqual(["created", "progress", "progress"]);
  });

  it("pauses for a person's input and resumes to submitted when answered", async () => {
    const { owner, agentId, call } = await setup();
    const id = await createTask(testApp.client, owner, agentId);
    const asked = await call("POST", `/v1/tasks/${id}/input-required`, { prompt: "Approve the refund?" });
    expect(asked.body).toMatchObject({
      state: "input_required",
      a2a_state: "INPUT_REQUIRED",
      input_request: { prompt: "Approve the refund?" },
    });
    expect((await call("POST", `/v1/tasks/${id}/complete`, { result: 1 })).body.code).toBe("invalid_state");
    const answered = await call("POST", `/v1/tasks/${id}/input`, { input: { approved: true } });
    expect(answered.body).toMatchObject({ state: "submitted", input_response: { approved: true } });
    expect((await call("POST", `/v1/tasks/${id}/input`, { input: "again" })).body).toMatchObject({
      code: "invalid_state",
      state: "submitted",
    });
  });

  it("returns a retryable failure to the queue while attempts remain, otherwise fails for good", async () => {
    const { owner, agentId, call } = await setup();
    const id = await createTask(testApp.client, owner, agentId, { max_attempts: 2 });
    const retried = await call("POST", `/v1/tasks/${id}/fail`, { error: { msg: "flaky" }, retryable: true });
    expect(retried.body).toMatchObject({ state: "submitted", error: { msg: "flaky" }, finished_at: null });
    const failed = await call("POST", `/v1/tasks/${id}/fail`, { error: { msg: "broken" } });
    expect(failed.body).toMatchObject({ state: "failed", a2a_state: "FAILED" });
    expect((await call("POST", `/v1/tasks/${id}/fail`, { error: { msg: "broken" } })).status).toBe(200);
    expect((await call("POST", `/v1/tasks/${id}/complete`, { result: 1 })).body).toMatchObject({
      code: "task_terminal",
      state: "failed",
    });
  });

  it("cancels idempotently for the same reason", async () => {
    const { owner, agentId, call } = await setup();
    const id = await createTask(testApp.client, owner, agentId);
    expect((await call("POST", `/v1/tasks/${id}/cancel`, { reason: "dup" })).body).toMatchObject({
      state: "canceled",
      a2a_state: "CANCELED",
      cancel_reason: "dup",
    });
    expect((await call("POST", `/v1/tasks/${id}/cancel`, { reason: "dup" })).status).toBe(200);
    expect((await call("POST", `/v1/tasks/${id}/cancel`, { reason: "other" })).body.code).toBe(
      "result_conflict",
    );
  });

  it("appends audit notes to terminal tasks without changing them", async () => {
    const { owner, agentId, call } = await setup();
    const id = await createTask(testApp.client, owner, agentId);
    await call("POST", `/v1/tasks/${id}/complete`, { result: "ok" });
    const before = (await call("GET", `/v1/tasks/${id}`)).body;
    const note = await call("POST", `/v1/tasks/${id}/audit-note`, { note: "reviewed by finance" });
    expect(note.status).toBe(201);
    expect(note.body).toMatchObject({
      type: "audit_note",
      data: { note: "reviewed by finance" },
      actor: { id: owner.id },
    });
    expect((await call("GET", `/v1/tasks/${id}`)).body).toEqual(before);
    expect(await eventTypes(call, id)).toEqual(["created", "completed", "audit_note"]);
  });

  it("refuses a worker_id without its epoch, and results over 128 KiB", async () => {
    const { owner, agentId, call } = await setup();
    const id = await createTask(testApp.client, owner, agentId);
    expect((await call("POST", `/v1/tasks/${id}/complete`, { result: 1, worker_id: "w1" })).status).toBe(422);
    const big = await call("POST", `/v1/tasks/${id}/complete`, { result: "x".repeat(130 * 1024) });
    expect(big.status).toBe(413);
    expect((await call("GET", `/v1/tasks/${id}`)).body.state).toBe("submitted");
  });

  it("filters lists by agent, state, type and creator", async () => {
    const { owner, agentId, call } = await setup();
    const other = await createAgent(testApp.client, owner);
    const a = await createTask(testApp.client, owner, agentId, { type: "alpha" });
    const b = await createTask(testApp.client, owner, other, { type: "beta" });
    await call("POST", `/v1/tasks/${b}/complete`, { result: 1 });
    const ids = async (query: string) =>
      ((await call("GET", `/v1/tasks?${query}`)).body.items as { id: string }[]).map((t) => t.id);
    expect(await ids(`agent_id=${agentId}`)).toEqual([a]);
    expect(await ids("state=completed")).toEqual([b]);
    expect(await ids("state=submitted,completed")).toEqual([b, a]);
    expect(await ids("type=alpha")).toEqual([a]);
    expect(await ids(`created_by=user:${owner.id}`)).toEqual([b, a]);
    expect(await ids("created_by=user:nobody")).toEqual([]);
    expect((await call("GET", "/v1/tasks?state=bogus")).status).toBe(422);
  });

  it("replays a task create by Idempotency-Key and refuses a changed body", async () => {
    const { agentId, call } = await setup();
    const headers = { "idempotency-key": "task-1" };
    const first = await call("POST", "/v1/tasks", { agent_id: agentId, type: "t" }, headers);
    const again = await call("POST", "/v1/tasks", { agent_id: agentId, type: "t" }, headers);
    expect(again.body.id).toBe(first.body.id);
    expect((await call("POST", "/v1/tasks", { agent_id: agentId, type: "u" }, headers)).body.code).toBe(
      "idempotency_key_reused",
    );
  });

  it("deletes by id or by name, with the events", async () => {
    const { owner, agentId, call } = await setup();
    const id = await createTask(testApp.client, owner, agentId, { name: "doomed" });
    expect((await call("DELETE", "/v1/tasks/by-name/doomed")).status).toBe(204);
    expect((await call("GET", `/v1/tasks/${id}`)).status).toBe(404);
    expect((await call("GET", `/v1/tasks/${id}/events`)).status).toBe(404);
    expect((await call("DELETE", `/v1/tasks/${id}`)).status).toBe(404);
  });

  it("refuses a name taken in the account", async () => {
    const { owner, agentId, call } = await setup();
    await createTask(testApp.client, owner, agentId, { name: "unique" });
    expect(
      (await call("POST", "/v1/tasks", { agent_id: agentId, type: "t", name: "unique" })).body.code,
    ).toBe("name_taken");
  });
});
