// The spicedb backend through the app (DESIGN §6, issue 5): register first, persist second,
// compensate what was not kept, outbox what could not be compensated, 503 when SpiceDB is down.
import { beforeEach, describe, expect, it } from "vitest";
import { runTick } from "../../src/cron/tick.ts";
import { adminToken, createAccountWithPrincipal, type TestPrincipal } from "../support/factories.ts";
import { queryRows } from "../support/graph.ts";
import { spicedbForFile } from "../support/spicedb.ts";
import { callAs, createAgent } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";

const write = "/v1/relationships/write";
const remove = "/v1/relationships/delete";
const lookup = "/v1/permissions/resources";
const checkbulk = "/v1/permissions/checkbulk";

describe("spicedb backend", () => {
  const spicedb = spicedbForFile();
  const testApp = useTestApp({ logSink: () => {} }, spicedb.bindings);
  let owner: TestPrincipal;
  beforeEach(async () => {
    await spicedb.reset();
    owner = await createAccountWithPrincipal(testApp.client);
  });
  const call = () => callAs(testApp.client, owner);
  const agentEdges = async (id: string) =>
    (await spicedb.edges("agent")).filter((e) => e.startsWith(`agent:${id}#`));
  const agentIds = async () => (await call()("GET", "/v1/agents")).body.items as { id: string }[];
  const outbox = () =>
    queryRows<{ operation: string; object_type: string; object_ids: string[] }>(
      testApp.database,
      "SELECT operation, object_type, object_ids FROM authz_outbox ORDER BY id",
    );
  const tick = () => runTick(testApp.client.env, new Date(), { logSink: () => {} });

  it("registers in SpiceDB and reads its own write at once", async () => {
    const created = await call()("POST", "/v1/agents", { name: "a" });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(await agentEdges(id)).toEqual([
      `agent:${id}#account@account:${owner.accountId}`,
      expect.stringMatching(new RegExp(`^agent:${id}#owner@user:${owner.accountId}/`)),
    ]);
    expect((await call()("GET", `/v1/agents/${id}`)).status).toBe(200);
    const stranger = await createAccountWithPrincipal(testApp.client, { role: "admin" });
    expect((await callAs(testApp.client, stranger)("GET", `/v1/agents/${id}`)).status).toBe(404);
  });

  it("writes one owner for a replayed create: the replay's unused edges are removed", async () => {
    const headers = { "idempotency-key": "create-once" };
    const first = await call()("POST", "/v1/agents", { name: "replayed" }, headers);
    const again = await call()("POST", "/v1/agents", { name: "replayed" }, headers);
    expect(again.body).toEqual(first.body);
    const owners = (await spicedb.edges("agent")).filter((e) => e.includes("#owner@"));
    expect(owners).toEqual([expect.stringContaining(`agent:${first.body.id}#owner@`)]);
  });

  it("creates nothing when registration fails: 503 authz_unavailable, no row, no edge", async () => {
    await spicedb.fault({ path: write, code: 14, count: 4 });
    const response = await call()("POST", "/v1/agents", { name: "down" });
    expect(response.status).toBe(503);
    expect(response.body.code).toBe("authz_unavailable");
    expect(response.headers.get("retry-after")).toBe("1");
    expect(await agentIds()).toEqual([]);
    expect(await spicedb.edges("agent")).toEqual([]);
  });

  it("checks a single resource with one bulk check, and filters lists with one lookup", async () => {
    const agentId = await createAgent(testApp.client, owner);
    const before = await spicedb.calls();
    expect((await call()("GET", `/v1/agents/${agentId}`)).status).toBe(200);
    const afterRead = await spicedb.calls();
    expect((afterRead[checkbulk] ?? 0) - (before[checkbulk] ?? 0)).toBe(1);
    expect(afterRead[lookup] ?? 0).toBe(before[lookup] ?? 0);
    expect((await call()("GET", "/v1/agents")).body.items).toMatchObject([{ id: agentId }]);
    expect(((await spicedb.calls())[lookup] ?? 0) - (afterRead[lookup] ?? 0)).toBe(1);
  });

  it("stores each resource's zedtoken with its row and reads that resource at least as fresh", async () => {
    const tokenOf = async (type: string, id: string) =>
      (
        await queryRows<{ token: string }>(
          testApp.database,
          "SELECT token FROM authz_zedtokens WHERE resource_type = $1 AND resource_id = $2",
          [type, id],
        )
      )[0]?.token;
    const created = await call()("POST", "/v1/agents", { name: "fresh" });
    const id = created.body.id as string;
    const written = (await spicedb.last())[write];
    const registered = await tokenOf("agent", id);
    expect(registered).toEqual(expect.any(String));
    expect(written?.updates).toHaveLength(2);
    await call()("GET", `/v1/agents/${id}`);
    expect((await spicedb.last())[checkbulk]?.consistency).toEqual({ atLeastAsFresh: { token: registered } });

    await call()("POST", `/v1/agents/${id}/grants`, {
      subject: { type: "user", id: "bob" },
      relation: "viewer",
    });
    const granted = await tokenOf("agent", id);
    expect(granted).not.toBe(registered);
    await call()("GET", `/v1/agents/${id}`);
    expect((await spicedb.last())[checkbulk]?.consistency).toEqual({ atLeastAsFresh: { token: granted } });

    await call()("GET", "/v1/agents");
    expect((await spicedb.last())[lookup]?.consistency).toEqual({ fullyConsistent: true });
    await call()("DELETE", `/v1/agents/${id}`);
    expect(await tokenOf("agent", id)).toBeUndefined();
  });

  it("rides out one SpiceDB blip: 503 then 200 creates normally", async () => {
    await spicedb.fault({ path: write, code: 14, count: 1 });
    expect((await call()("POST", "/v1/agents", { name: "blip" })).status).toBe(201);
    await spicedb.fault({ path: lookup, delay_ms: 300, count: 1 });
    expect(await agentIds()).toHaveLength(1);
  });

  it("removes the edges when persisting fails after registration, and shows the store's error", async () => {
    const kept = await call()("POST", "/v1/agents", { name: "taken" });
    const refused = await call()("POST", "/v1/agents", { name: "taken" });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe("name_taken");
    const ids = new Set((await spicedb.edges("agent")).map((e) => e.slice(6, e.indexOf("#"))));
    expect([...ids]).toEqual([kept.body.id]);
  });

  it("keeps a failed compensation in the outbox; the reconciler removes the edges", async () => {
    await call()("POST", "/v1/agents", { name: "taken" });
    // The second create's registration passes; its compensation's write fails four times.
    await spicedb.fault({ path: write, code: 14, skip: 1, count: 4 });
    const refused = await call()("POST", "/v1/agents", { name: "taken" });
    expect(refused.body.code).toBe("name_taken");
    expect(new Set((await spicedb.edges("agent")).map((e) => e.slice(6, e.indexOf("#")))).size).toBe(2);
    expect(await outbox()).toMatchObject([{ operation: "remove_edges", object_type: "agent" }]);
    expect((await tick()).authz_outbox).toMatchObject({ completed: 1, failed: 0 });
    expect(new Set((await spicedb.edges("agent")).map((e) => e.slice(6, e.indexOf("#")))).size).toBe(1);
    expect(await outbox()).toEqual([]);
  });

  it("deletes even when deregistration fails; the outbox drains once SpiceDB is back", async () => {
    const agentId = await createAgent(testApp.client, owner);
    await spicedb.fault({ path: remove, code: 14, count: 4 });
    expect((await call()("DELETE", `/v1/agents/${agentId}`)).status).toBe(204);
    expect((await call()("GET", `/v1/agents/${agentId}`)).status).toBe(404);
    expect(await agentEdges(agentId)).toHaveLength(2);
    expect(await outbox()).toEqual([
      { operation: "deregister", object_type: "agent", object_ids: [agentId] },
    ]);
    const asAdmin = callAs(testApp.client, { token: adminToken(testApp.client) });
    const listed = await asAdmin("GET", "/v1/admin/authz/outbox");
    expect(listed.body).toMatchObject({
      items: [
        { operation: "deregister", object_type: "agent", object_ids: [agentId], attempts: 0, edges: null },
      ],
      next_cursor: null,
    });
    expect((listed.body.items as { last_error: string }[])[0]?.last_error).toMatch(/SpiceDbError/);
    expect((await call()("GET", "/v1/admin/authz/outbox")).status).toBe(401);
    await spicedb.fault({ path: remove, code: 14, count: 4 });
    expect((await tick()).authz_outbox).toMatchObject({ completed: 0, failed: 1 });
    await queryRows(testApp.database, "UPDATE authz_outbox SET next_attempt_at = now()");
    expect((await tick()).authz_outbox).toMatchObject({ completed: 1, failed: 0 });
    expect(await agentEdges(agentId)).toEqual([]);
    expect((await asAdmin("GET", "/v1/admin/authz/outbox")).body.items).toEqual([]);
  });

  it("answers 503 on a read while SpiceDB is down: never 404, never allowed", async () => {
    const agentId = await createAgent(testApp.client, owner);
    await spicedb.fault({ path: checkbulk, code: 14, count: 4 });
    await spicedb.fault({ path: lookup, code: 14, count: 4 });
    const read = await call()("GET", `/v1/agents/${agentId}`);
    expect(read.status).toBe(503);
    expect(read.body.code).toBe("authz_unavailable");
    const list = await call()("GET", "/v1/agents");
    expect(list.status).toBe(503);
    expect((await call()("GET", `/v1/agents/${agentId}`)).status).toBe(200);
  });
});
