// Switching AUTHZ_BACKEND on a live deployment (DESIGN §14, ADR 0018): the whole graph is copied,
// grants, memberships and agent-key edges included, and the app pointed at the other backend
// decides the same for every principal; the catch-up replays the switch window's changes.
import { beforeEach, describe, expect, it } from "vitest";
import { runAuthzCopy } from "../../scripts/authz-copy.ts";
import { createApp } from "../../src/app.ts";
import { principalSubject } from "../../src/authz/subjects.ts";
import {
  type CopyPosition,
  catchUp,
  copyGraph,
  decodeMark,
  diffGraph,
  syncGraph,
  takeMark,
} from "../../src/authz-copy/copy.ts";
import { postgresStore, spicedbStore } from "../../src/authz-copy/stores.ts";
import { newId } from "../../src/lib/ids.ts";
import { createAccountWithPrincipal, createPrincipal, type TestPrincipal } from "../support/factories.ts";
import { queryRows } from "../support/graph.ts";
import { spicedbForFile } from "../support/spicedb.ts";
import { clientFor, withDb } from "../support/spicedb-seed.ts";
import { callAs, createAgent, createTask } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";
import { createTestClient, type TestClient } from "../support/test-client.ts";

type Backend = "postgres" | "spicedb";
type Caller = TestPrincipal | { token: string };

describe("switching AUTHZ_BACKEND", () => {
  const spicedb = spicedbForFile();
  const testApp = useTestApp({ logSink: () => {} });
  /** The same database and admin token, under either backend. */
  const apps = {} as Record<Backend, TestClient>;
  beforeEach(async () => {
    apps.postgres = testApp.client;
    apps.spicedb = createTestClient(createApp({ logSink: () => {} }), {
      ...testApp.client.env,
      ...spicedb.bindings,
    });
    await spicedb.reset();
    await queryRows(testApp.database, "DELETE FROM authz_relationships");
  });
  const stores = <T>(
    use: (s: {
      postgres: ReturnType<typeof postgresStore>;
      spicedb: ReturnType<typeof spicedbStore>;
    }) => Promise<T>,
  ) =>
    withDb(testApp.database, (db) =>
      use({ postgres: postgresStore(db), spicedb: spicedbStore(clientFor(spicedb), db) }),
    );

  /** Agents, tasks, agent and task grants, an agent key and several members, built through the API. */
  async function buildGraph(client: TestClient) {
    const admin = await createAccountWithPrincipal(client, { role: "admin" });
    const member = (options: { type?: "user" | "service_account" } = {}) =>
      createPrincipal(client, admin.accountId, { role: "member", ...options });
    const [alice, bob, carol, dave, robot] = [
      await member(),
      await member(),
      await member(),
      await member(),
      await member({ type: "service_account" }),
    ];
    const shared = await createAgent(client, alice);
    const ops = await createAgent(client, admin);
    const tasks = [
      await createTask(client, alice, shared),
      await createTask(client, alice, shared),
      await createTask(client, admin, ops),
      await createTask(client, admin, ops),
    ];
    const grant = async (by: TestPrincipal, path: string, subject: TestPrincipal, relation: string) => {
      const response = await callAs(client, by)("POST", `${path}/grants`, {
        subject: { type: subject.type, id: subject.id },
        relation,
      });
      expect(response.status).toBeLessThan(300);
    };
    await grant(alice, `/v1/agents/${shared}`, bob, "viewer");
    await grant(admin, `/v1/agents/${ops}`, robot, "editor");
    await grant(admin, `/v1/tasks/${tasks[2]}`, carol, "viewer");
    const key = await callAs(client, alice)("POST", `/v1/agents/${shared}/api-keys`);
    expect(key.status).toBe(201);
    const stranger = await createAccountWithPrincipal(client, { role: "admin" });
    const foreignAgent = await createAgent(client, stranger);
    const foreignTask = await createTask(client, stranger, foreignAgent);
    const principals: Record<string, Caller> = {
      admin,
      alice,
      bob,
      carol,
      dave,
      robot,
      agentKey: { token: key.body.key as string },
      stranger,
    };
    return { principals, agents: [shared, ops, foreignAgent], tasks: [...tasks, foreignTask], shared, ops };
  }

  type World = Awaited<ReturnType<typeof buildGraph>>;

  /** Retries `check` until it passes, for at most a minute. */
  async function eventually<T>(check: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        return await check();
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  /** What every principal may see: list contents and the status of each read. */
  async function decisions(client: TestClient, world: World) {
    const seen: Record<
      string,
      { agents: string[]; tasks: string[]; agentReads: number[]; taskReads: number[] }
    > = {};
    for (const [name, principal] of Object.entries(world.principals)) {
      const call = callAs(client, principal);
      const ids = async (path: string) => {
        const response = await call("GET", path);
        expect(response.status).toBe(200);
        return (response.body.items as { id: string }[]).map((item) => item.id).sort();
      };
      seen[name] = {
        agents: await ids("/v1/agents?limit=200"),
        tasks: await ids("/v1/tasks?limit=200"),
        agentReads: await Promise.all(
          world.agents.map(async (id) => (await call("GET", `/v1/agents/${id}`)).status),
        ),
        taskReads: await Promise.all(
          world.tasks.map(async (id) => (await call("GET", `/v1/tasks/${id}`)).status),
        ),
      };
    }
    return seen;
  }

  /** The agent key claims on its own agent and gets 404 on another. */
  async function expectClaims(client: TestClient, world: World) {
    const worker = callAs(client, world.principals.agentKey as Caller);
    const own = await worker("POST", "/v1/leases", { agent_id: world.shared, worker_id: "w" });
    expect(own.status).toBe(200);
    expect(own.body.items).toHaveLength(1);
    expect((await worker("POST", "/v1/leases", { agent_id: world.ops, worker_id: "w" })).status).toBe(404);
  }

  for (const [from, to] of [
    ["postgres", "spicedb"],
    ["spicedb", "postgres"],
  ] as const) {
    it(`copies every edge ${from} -> ${to}: the other backend decides the same for every principal`, async () => {
      const world = await buildGraph(apps[from]);
      const { copied } = await stores((s) => copyGraph(s[from], s[to]));
      expect(copied).toBeGreaterThan(20);
      // SpiceDB reads a resource at least as fresh as its own last write, so a grant on its parent
      // may take its quantization window (seconds) to show there: poll until both agree.
      const agreed = await eventually(async () => {
        const before = await decisions(apps[from], world);
        expect(await decisions(apps[to], world)).toEqual(before);
        return before;
      });
      // The graph really decides: a member without grants sees nothing of the account, a viewer
      // of an agent its tasks, the agent key its agent.
      expect(agreed.dave).toEqual({
        agents: [],
        tasks: [],
        agentReads: [404, 404, 404],
        taskReads: [404, 404, 404, 404, 404],
      });
      expect(agreed.bob).toMatchObject({ agents: [world.shared], taskReads: [200, 200, 404, 404, 404] });
      expect(agreed.carol).toMatchObject({ agents: [], taskReads: [404, 404, 200, 404, 404] });
      expect(agreed.agentKey).toMatchObject({ agents: [world.shared] });
      expect(agreed.stranger).toMatchObject({ agentReads: [404, 404, 200] });
      await expectClaims(apps[from], world);
      await expectClaims(apps[to], world);
      const diff = await stores((s) => diffGraph(s[from], s[to]));
      expect(diff.flatMap((type) => [...type.onlyInSource, ...type.onlyInTarget])).toEqual([]);
    });

    it(`catches up ${from} -> ${to} after the deploy: the window's grants and revocations, not the new backend's own changes`, async () => {
      const old = apps[from];
      const next = apps[to];
      const owner = await createAccountWithPrincipal(old, { role: "admin" });
      const agent = await createAgent(old, owner);
      const people = {} as Record<"bob" | "carol" | "dave" | "erin", TestPrincipal>;
      for (const name of ["bob", "carol", "dave", "erin"] as const) {
        people[name] = await createPrincipal(old, owner.accountId, { role: "member" });
      }
      const share = (client: TestClient, who: TestPrincipal, method: "POST" | "DELETE") =>
        callAs(client, owner)(method, `/v1/agents/${agent}/grants`, {
          subject: { type: who.type, id: who.id },
          relation: "viewer",
        });
      await share(old, people.bob, "POST");
      await share(old, people.erin, "POST");
      const mark = await stores(async (s) => {
        await syncGraph(s[from], s[to]);
        return takeMark(s);
      });
      // The deploy window: the old version revokes bob and grants carol; the new one grants dave
      // and revokes erin.
      await share(old, people.bob, "DELETE");
      await share(old, people.carol, "POST");
      await share(next, people.dave, "POST");
      await share(next, people.erin, "DELETE");

      const report = await stores((s) => catchUp(s[from], s[to], mark));
      const viewers = (edges: { resourceId: string; relation: string; subject: { id: string } }[]) =>
        edges
          .filter((edge) => edge.resourceId === agent && edge.relation === "viewer")
          .map((edge) => edge.subject.id);
      const graphId = (who: TestPrincipal) => principalSubject(who).id;
      expect(viewers(report.added)).toEqual([graphId(people.carol)]);
      expect(viewers(report.removed)).toEqual([graphId(people.bob)]);
      expect(viewers(report.keptDeleted)).toEqual([graphId(people.erin)]);
      const reads = async (who: TestPrincipal) =>
        (await callAs(next, who)("GET", `/v1/agents/${agent}`)).status;
      expect({
        bob: await reads(people.bob),
        carol: await reads(people.carol),
        dave: await reads(people.dave),
        erin: await reads(people.erin),
      }).toEqual({ bob: 404, carol: 200, dave: 200, erin: 404 });
    });
  }

  it("resumes an interrupted copy from the position it reported, and the diff finds what is missing", async () => {
    const accountId = newId("acc");
    await queryRows(
      testApp.database,
      `INSERT INTO authz_relationships (resource_type, resource_id, relation, subject_type, subject_id)
       SELECT 'task', 'tsk_' || lpad(n::text, 26, '0'), 'account', 'account', $1 FROM generate_series(1, 2500) AS n`,
      [accountId],
    );
    const reported: { last: CopyPosition | null } = { last: null };
    const interrupted = await stores((s) =>
      copyGraph(s.postgres, s.spicedb, {
        onPage: (next) => {
          reported.last = next;
          if (next?.type === "task" && next.cursor) throw new Error("interrupted");
        },
      }).catch((error: Error) => error.message),
    );
    expect(interrupted).toBe("interrupted");
    expect((await spicedb.edges("task")).length).toBe(1000);
    const resumed = await stores((s) =>
      copyGraph(s.postgres, s.spicedb, { resume: reported.last ?? undefined }),
    );
    expect(resumed.copied).toBe(1500);
    expect((await spicedb.edges("task")).length).toBe(2500);

    await queryRows(testApp.database, "DELETE FROM authz_relationships WHERE resource_id = $1", [
      `tsk_${"1".padStart(26, "0")}`,
    ]);
    const env = {
      DATABASE_URL: testApp.database.url,
      ...(testApp.database.proxy ? { DATABASE_WS_PROXY: testApp.database.proxy } : {}),
      SPICEDB_URL: spicedb.url,
      SPICEDB_TOKEN: spicedb.token,
    };
    const lines: string[] = [];
    const verify = ["--from", "postgres", "--to", "spicedb", "--verify"];
    expect(await runAuthzCopy(verify, env, (line) => lines.push(line))).toBe(1);
    expect(lines).toContain("verify task: 0 only in postgres, 1 only in spicedb");
    expect(lines).toContain(
      `  only in spicedb: task:tsk_${"1".padStart(26, "0")}#account@account:${accountId}`,
    );
    lines.length = 0;
    expect(
      await runAuthzCopy(["--from", "postgres", "--to", "spicedb", "--prune"], env, (line) =>
        lines.push(line),
      ),
    ).toBe(0);
    const mark = lines.find((line) => line.startsWith("mark: "))?.slice("mark: ".length) ?? "";
    expect(decodeMark(mark).token).not.toBe("");
    expect(await runAuthzCopy(verify, env, () => {})).toBe(0);
  });
});
