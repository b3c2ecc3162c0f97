// Schedules over HTTP (DESIGN §5, §7): create with validation, read, list, edit, trigger, delete,
// and who may do which.
import { describe, expect, it } from "vitest";
import { createAccountWithPrincipal, createPrincipal, type TestPrincipal } from "../support/factories.ts";
import { edgesNaming, queryRows } from "../support/graph.ts";
import { callAs, createAgent, type Json } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";

describe("schedules API", () => {
  const testApp = useTestApp();

  async function withSchedule(body: Json = {}) {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const call = callAs(testApp.client, owner);
    const base = `/v1/agents/${agentId}/schedules`;
    const created = await call("POST", base, {
      name: "nightly",
      cron: "0 3 * * *",
      task: { type: "report" },
      ...body,
    });
    return { owner, agentId, call, base, created, path: `${base}/${created.body.id}` };
  }

  it("creates with defaults, registers owner and agent, and reads back the same", async () => {
    const { owner, agentId, call, base, created, path } = await withSchedule();
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      agent_id: agentId,
      name: "nightly",
      cron: "0 3 * * *",
      timezone: "UTC",
      task: { type: "report", input: null, max_attempts: 5 },
      overlap: "skip",
      catchup_window_seconds: 3600,
      paused: false,
      missed_fires: 0,
      last_task_id: null,
      created_by: { type: owner.type, id: owner.id },
    });
    const next = new Date(created.body.next_fire_at as string);
    expect(next.getUTCHours()).toBe(3);
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(24 * 3600 * 1000);
    expect((await call("GET", path)).body).toEqual(created.body);
    expect((await call("GET", base)).body).toEqual({ items: [created.body], next_cursor: null });
    const edges = await queryRows<{ relation: string }>(
      testApp.database,
      "SELECT relation FROM authz_relationships WHERE resource_type = 'schedule' AND resource_id = $1 ORDER BY relation",
      [created.body.id],
    );
    expect(edges.map((edge) => edge.relation)).toEqual(["account", "owner", "parent_agent"]);
  });

  it.each([
    [{ cron: "61 * * * *" }, "/cron", /minute/],
    [{ cron: "* * * * * *" }, "/cron", /five fields/i],
    [{ cron: "@daily" }, "/cron", /five fields/i],
    [{ cron: "0 0 30 2 *" }, "/cron", /never fires/],
    [{ timezone: "Mars/Olympus" }, "/timezone", /time zone/],
    [{ catchup_window_seconds: 8 * 24 * 3600 }, "/catchup_window_seconds", /./],
    [{ overlap: "queue" }, "/overlap", /./],
  ])("refuses %j with 422 at the field, creating nothing", async (body, pointer, reason) => {
    const { call, base, created } = await withSchedule(body);
    expect(created.status).toBe(422);
    expect(created.body.code).toBe("validation_failed");
    const errors = created.body.errors as { pointer: string; message: string }[];
    expect(errors).toContainEqual(
      expect.objectContaining({ pointer, message: expect.stringMatching(reason) }),
    );
    expect((await call("GET", base)).body.items).toEqual([]);
  });

  it("answers a taken name with 409 name_taken and leaves no edge for the refused schedule", async () => {
    const { owner, call, base, created } = await withSchedule();
    const again = await call("POST", base, { name: "nightly", cron: "* * * * *", task: { type: "other" } });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("name_taken");
    const rows = await queryRows<{ n: number }>(
      testApp.database,
      "SELECT count(DISTINCT resource_id)::int AS n FROM authz_relationships WHERE resource_type = 'schedule' AND subject_id = $1",
      [owner.accountId],
    );
    expect(rows[0]?.n).toBe(1);
    expect((await call("GET", base)).body.items).toMatchObject([{ id: created.body.id }]);
  });

  it("edits settings, recomputing the next instant when the expression or zone changes", async () => {
    const { call, path, created } = await withSchedule();
    const renamed = await call("PATCH", path, { name: "hourly", overlap: "buffer_one" });
    expect(renamed.body).toMatchObject({
      name: "hourly",
      overlap: "buffer_one",
      next_fire_at: created.body.next_fire_at,
    });
    const retimed = await call("PATCH", path, { cron: "30 * * * *", timezone: "Asia/Kolkata" });
    // Asia/Kolkata is UTC+05:30, so minute 30 there is minute 0 in UTC.
    expect(new Date(retimed.body.next_fire_at as string).getUTCMinutes()).toBe(0);
    const retasked = await call("PATCH", path, { task: { type: "digest", input: { to: "ops" } } });
    expect(retasked.body.task).toEqual({ type: "digest", input: { to: "ops" }, max_attempts: 5 });

    const bad = await call("PATCH", path, { cron: "0 0 31 4 *" });
    expect(bad.status).toBe(422);
    expect(bad.body.errors).toMatchObject([{ pointer: "/cron" }]);
    expect((await call("PATCH", path, {})).status).toBe(422);
    expect((await call("GET", path)).body).toMatchObject({ cron: "30 * * * *", name: "hourly" });
  });

  it("triggers a run now, owned by the schedule's creator, once per Idempotency-Key", async () => {
    const { owner, agentId, path, created } = await withSchedule({
      task: { type: "report", input: { x: 1 } },
    });
    const admin = await createPrincipal(testApp.client, owner.accountId, { role: "admin" });
    const asAdmin = callAs(testApp.client, admin);
    const headers = { "idempotency-key": "run-now-1" };
    const run = await asAdmin("POST", `${path}/trigger`, undefined, headers);
    expect(run.status).toBe(201);
    expect(run.body).toMatchObject({
      agent_id: agentId,
      type: "report",
      input: { x: 1 },
      state: "submitted",
      schedule_id: created.body.id,
      scheduled_for: expect.any(String),
      created_by: { type: owner.type, id: owner.id },
    });
    const replay = await asAdmin("POST", `${path}/trigger`, undefined, headers);
    expect(replay.body).toEqual(run.body);
    const runs = await queryRows(testApp.database, "SELECT id FROM tasks WHERE schedule_id = $1", [
      created.body.id,
    ]);
    expect(runs).toEqual([{ id: run.body.id }]);
    expect((await callAs(testApp.client, owner)("GET", `/v1/tasks/${run.body.id}`)).status).toBe(200);
    expect((await callAs(testApp.client, owner)("GET", path)).body.last_task_id).toBe(run.body.id);
  });

  it("deletes the schedule and its edges; its runs stay", async () => {
    const { call, path, created } = await withSchedule();
    const run = await call("POST", `${path}/trigger`);
    expect((await call("DELETE", path)).status).toBe(204);
    expect((await call("GET", path)).status).toBe(404);
    expect((await call("DELETE", path)).status).toBe(404);
    expect(await edgesNaming(testApp.database, created.body.id as string)).toBe(0);
    expect((await call("GET", `/v1/tasks/${run.body.id}`)).body).toMatchObject({
      schedule_id: created.body.id,
    });
  });

  it("deleting the agent deletes its schedules and their edges", async () => {
    const { call, agentId, created } = await withSchedule();
    expect((await call("DELETE", `/v1/agents/${agentId}`)).status).toBe(204);
    const rows = await queryRows(testApp.database, "SELECT id FROM schedules WHERE id = $1", [
      created.body.id,
    ]);
    expect(rows).toEqual([]);
    expect(await edgesNaming(testApp.database, created.body.id as string)).toBe(0);
  });

  it("lets the agent's readers read, only its managers change, and no one else see", async () => {
    const { owner, agentId, base, path } = await withSchedule();
    const grant = async (who: TestPrincipal, relation: string) =>
      callAs(testApp.client, owner)("POST", `/v1/agents/${agentId}/grants`, {
        subject: { type: who.type, id: who.id },
        relation,
      });
    const viewer = await createPrincipal(testApp.client, owner.accountId);
    await grant(viewer, "viewer");
    const asViewer = callAs(testApp.client, viewer);
    expect((await asViewer("GET", path)).status).toBe(200);
    expect((await asViewer("GET", base)).body.items).toHaveLength(1);
    for (const [method, suffix, body] of [
      ["PATCH", "", { paused: true }],
      ["DELETE", "", undefined],
      ["POST", "/trigger", undefined],
    ] as const) {
      expect((await asViewer(method, `${path}${suffix}`, body)).status).toBe(403);
    }
    const refused = await asViewer("POST", base, { name: "mine", cron: "* * * * *", task: { type: "t" } });
    expect(refused.status).toBe(403);

    const member = await createPrincipal(testApp.client, owner.accountId);
    const stranger = await createAccountWithPrincipal(testApp.client, { role: "admin" });
    for (const outsider of [member, stranger]) {
      const as = callAs(testApp.client, outsider);
      const responses = [
        await as("GET", path),
        await as("GET", base),
        await as("PATCH", path, { paused: true }),
        await as("DELETE", path),
        await as("POST", `${path}/trigger`),
        await as("POST", base, { name: "x", cron: "* * * * *", task: { type: "t" } }),
      ];
      expect(responses.map((response) => response.status)).toEqual([404, 404, 404, 404, 404, 404]);
      expect(new Set(responses.map((response) => response.body.detail)).size).toBe(1);
    }
    expect((await callAs(testApp.client, owner)("GET", path)).body.paused).toBe(false);
  });
});
