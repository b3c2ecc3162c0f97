// The rollout ladder (DESIGN §6) for every flag value, and the backfill that lets a type climb it.
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { rolloutFlags } from "../../src/config/bindings.ts";
import { testBindings } from "../support/bindings.ts";
import {
  adminToken,
  createAccount,
  createAccountWithPrincipal,
  createPrincipal,
} from "../support/factories.ts";
import { edgesNaming } from "../support/graph.ts";
import { callAs, createAgent, createTask } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";
import { createTestClient } from "../support/test-client.ts";

describe("rollout flags", () => {
  const testApp = useTestApp();
  const clientWith = (flags: Record<string, string>, lines: string[] = []) =>
    createTestClient(
      createApp({ logSink: (line) => lines.push(line) }),
      testBindings(testApp.database, flags),
    );

  it.each(rolloutFlags)("FGAC_AGENTS and FGAC_TASKS = %s", async (flag) => {
    const lines: string[] = [];
    const client = clientWith({ FGAC_AGENTS: flag, FGAC_TASKS: flag }, lines);
    const accountId = await createAccount(client);
    const alice = await createPrincipal(client, accountId);
    const bob = await createPrincipal(client, accountId);
    const agentId = await createAgent(client, alice);
    const taskId = await createTask(client, alice, agentId);

    // Edges are written on every step above off.
    expect(await edgesNaming(testApp.database, agentId)).toBe(flag === "off" ? 0 : 3); // account, owner, task's parent
    expect(await edgesNaming(testApp.database, taskId)).toBe(flag === "off" ? 0 : 3);

    // Decisions stay account-scoped until enforce.
    const bobReads = await callAs(client, bob)("GET", `/v1/tasks/${taskId}`);
    expect(bobReads.status).toBe(flag === "enforce" ? 404 : 200);
    const bobLists = (await callAs(client, bob)("GET", "/v1/tasks")).body.items as unknown[];
    expect(bobLists).toHaveLength(flag === "enforce" ? 0 : 1);
    expect((await callAs(client, alice)("GET", `/v1/tasks/${taskId}`)).status).toBe(200);

    // Shadow computes the graph's answer and counts each disagreement; nobody else does.
    const mismatches = lines
      .map((line) => JSON.parse(line))
      .filter((e) => e.event === "authz.shadow_mismatch");
    if (flag === "shadow") {
      expect(mismatches.map((m) => [m.resource_type, m.permission, m.resource_ids])).toEqual([
        ["task", "read", [taskId]],
        ["task", "read", [taskId]],
      ]);
      expect(lines.some((line) => line.includes('"metric":"authz.shadow_mismatch"'))).toBe(true);
    } else {
      expect(mismatches).toEqual([]);
    }
  });

  it("climbs from off to enforce: the backfill, run twice, grants exactly what the schema says", async () => {
    const off = clientWith({ FGAC_TASKS: "off" });
    const enforce = clientWith({ FGAC_TASKS: "enforce" });
    const accountId = await createAccount(off);
    const alice = await createPrincipal(off, accountId);
    const bob = await createPrincipal(off, accountId);
    const carol = await createPrincipal(off, accountId);
    const admin = await createPrincipal(off, accountId, { role: "admin" });
    const outsider = await createAccountWithPrincipal(off, { role: "admin" });
    const agentId = await createAgent(off, alice);
    await callAs(off, alice)("POST", `/v1/agents/${agentId}/grants`, {
      subject: { type: "user", id: bob.id },
      relation: "viewer",
    });
    const taskIds = [
      await createTask(off, alice, agentId),
      await createTask(off, alice, agentId),
      await createTask(off, alice, agentId),
    ];
    for (const id of taskIds) expect(await edgesNaming(testApp.database, id)).toBe(0);

    const readers = async (id: string) => {
      const who: Record<string, { token: string }> = { alice, bob, carol, admin, outsider };
      const allowed: string[] = [];
      for (const [name, principal] of Object.entries(who)) {
        if ((await callAs(enforce, principal)("GET", `/v1/tasks/${id}`)).status === 200) allowed.push(name);
      }
      return allowed;
    };
    expect(await readers(taskIds[0] as string)).toEqual([]);

    const backfill = async () => {
      const response = await enforce.request<Record<string, unknown>>("POST", "/v1/admin/authz/backfill", {
        token: adminToken(enforce),
        body: { resource_type: "task", limit: 5000 },
      });
      expect(response.status).toBe(200);
      return response.body;
    };
    const first = await backfill();
    expect(first).toMatchObject({ resource_type: "task", next_cursor: null });
    const edgesAfterFirst = await Promise.all(taskIds.map((id) => edgesNaming(testApp.database, id)));
    await backfill();
    expect(await Promise.all(taskIds.map((id) => edgesNaming(testApp.database, id)))).toEqual(
      edgesAfterFirst,
    );
    expect(edgesAfterFirst).toEqual([3, 3, 3]);

    // Owner, account admin, and the agent's viewer (task.read ⊇ parent_agent->read); nobody else.
    for (const id of taskIds) expect(await readers(id)).toEqual(["alice", "bob", "admin"]);
  });

  it("pages the backfill with a cursor", async () => {
    const client = clientWith({ FGAC_TASKS: "off" });
    const alice = await createAccountWithPrincipal(client);
    const agentId = await createAgent(client, alice);
    for (let i = 0; i < 3; i++) await createTask(client, alice, agentId);
    let after = "";
    let batches = 0;
    for (;;) {
      const response = await client.request<{ next_cursor: string | null; scanned: number }>(
        "POST",
        "/v1/admin/authz/backfill",
        {
          token: adminToken(client),
          body: { resource_type: "task", after, limit: 2 },
        },
      );
      batches++;
      if (!response.body.next_cursor) break;
      after = response.body.next_cursor;
    }
    expect(batches).toBeGreaterThanOrEqual(2);
  });
});
