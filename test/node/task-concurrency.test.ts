// Races between real parallel requests: each request opens its own Pool, so these are
// separate PostgreSQL connections contending for the same rows.
import { describe, expect, it } from "vitest";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { callAs, createAgent, createTask } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";

describe("task concurrency", () => {
  const testApp = useTestApp();
  async function setup() {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    return { owner, agentId, call: callAs(testApp.client, owner) };
  }

  it("lets identical parallel completes all succeed, recording one completion", async () => {
    const { owner, agentId, call } = await setup();
    const id = await createTask(testApp.client, owner, agentId);
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => call("POST", `/v1/tasks/${id}/complete`, { result: { ok: true } })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(200));
    const events = (await call("GET", `/v1/tasks/${id}/events`)).body.items as { type: string }[];
    expect(events.filter((event) => event.type === "completed")).toHaveLength(1);
  });

  it("gives a complete racing a fail exactly one winner; the loser gets 409", async () => {
    const { owner, agentId, call } = await setup();
    for (let round = 0; round < 15; round++) {
      const id = await createTask(testApp.client, owner, agentId);
      const [complete, fail] = await Promise.all([
        call("POST", `/v1/tasks/${id}/complete`, { result: round }),
        call("POST", `/v1/tasks/${id}/fail`, { error: round }),
      ]);
      const statuses = [complete.status, fail.status].toSorted();
      expect(statuses).toEqual([200, 409]);
      const loser = complete.status === 409 ? complete : fail;
      const final = (await call("GET", `/v1/tasks/${id}`)).body.state;
      expect(loser.body).toMatchObject({ code: "task_terminal", state: final });
      expect(final).toBe(complete.status === 200 ? "completed" : "failed");
    }
  });

  it("gives 50 parallel creates 50 distinct tasks", async () => {
    const { agentId, call } = await setup();
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call("POST", "/v1/tasks", { agent_id: agentId, type: "bulk", input: i }),
      ),
    );
    expect(responses.every((r) => r.status === 201)).toBe(true);
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(50);
    const listed = (await call("GET", `/v1/tasks?agent_id=${agentId}&limit=200`)).body.items as unknown[];
    expect(listed).toHaveLength(50);
  });

  it("creates once for parallel requests with one Idempotency-Key", async () => {
    const { agentId, call } = await setup();
    const responses = await Promise.all(
      Array.from({ length: 6 }, () =>
        call("POST", "/v1/tasks", { agent_id: agentId, type: "idem" }, { "idempotency-key": "same-key" }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(6).fill(201));
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
  });
});

describe("tenant isolation", () => {
  const testApp = useTestApp();

  it("answers another account exactly as for a random id, for every verb", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const outsider = await createAccountWithPrincipal(testApp.client, { role: "admin" });
    const agentId = await createAgent(testApp.client, owner);
    const id = await createTask(testApp.client, owner, agentId);
    const random = "tsk_01m8000000000000000000000";
    const as = callAs(testApp.client, outsider);
    const verbs: [string, string, unknown?][] = [
      ["GET", ""],
      ["POST", "/progress", { progress: 1 }],
      ["POST", "/complete", { result: 1 }],
      ["POST", "/fail", { error: 1 }],
      ["POST", "/cancel", { reason: "x" }],
      ["POST", "/input", { input: 1 }],
      ["POST", "/audit-note", { note: "x" }],
      ["GET", "/events"],
      ["DELETE", ""],
    ];
    const strip = ({ request_id: _, ...rest }: Record<string, unknown>) => rest;
    for (const [method, suffix, body] of verbs) {
      const foreign = await as(method, `/v1/tasks/${id}${suffix}`, body);
      const missing = await as(method, `/v1/tasks/${random}${suffix}`, body);
      expect(foreign.status, `${method} ${suffix}`).toBe(404);
      expect(strip(foreign.body)).toEqual(strip(missing.body));
    }
    const mine = await callAs(testApp.client, owner)("GET", `/v1/tasks/${id}`);
    expect(mine.body).toMatchObject({ state: "submitted", progress: null });
  });
});
