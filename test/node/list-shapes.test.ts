// Lists have two shapes (ADR 0016): a scan of the account with the permission predicate on each
// row (account admins), and pages driven from the principal's own edges (everyone else). The
// role only picks the faster one, so both must answer the same pages for anyone. Here every
// principal of a shared account, admins included, lists tasks, agents and schedules in both shapes,
// page by page, under every filter, and the API's answer must be that same list.
import { type SQL, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAgents } from "../../src/agents/repo.ts";
import { authzSchema } from "../../src/authz/model.ts";
import { permissionPredicate } from "../../src/authz/sql-compiler.ts";
import { compileLookup, type ListScope } from "../../src/authz/sql-lookup.ts";
import { principalSubject } from "../../src/authz/subjects.ts";
import { type DatabaseHandle, openDatabase } from "../../src/db/client.ts";
import { listSchedules } from "../../src/schedules/repo.ts";
import { listTasks, type TaskFilters } from "../../src/tasks/repo.ts";
import { createAccount, createPrincipal, type TestPrincipal } from "../support/factories.ts";
import { callAs, createAgent, createTask } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";

type Shape = "forward" | "driven";
type Cast = "admin" | "secondAdmin" | "owner" | "viewer" | "worker" | "granted" | "nobody";
type Listed = { id: string };

function scopeOf(principal: TestPrincipal, type: string, id: SQL, shape: Shape): ListScope {
  const subject = principalSubject(principal);
  return shape === "driven"
    ? { lookup: compileLookup(authzSchema, type, "read", subject) }
    : { predicate: permissionPredicate(authzSchema, type, "read", id, subject) };
}

/** Every page of a list, `limit` at a time, following the cursor. */
async function allPages<T extends Listed>(
  limit: number,
  page: (limit: number, before: string | undefined) => Promise<T[]>,
): Promise<T[][]> {
  const pages: T[][] = [];
  let before: string | undefined;
  for (;;) {
    const rows = await page(limit, before);
    pages.push(rows.slice(0, limit));
    if (rows.length <= limit) return pages;
    before = rows[limit - 1]?.id;
  }
}

describe("both list shapes answer the same for every principal", () => {
  const t = useTestApp();
  let handle: DatabaseHandle;
  let accountId: string;
  let principals: Record<Cast, TestPrincipal>;
  let agents: string[];
  const taskIds: string[] = [];

  beforeAll(async () => {
    handle = openDatabase({ databaseUrl: t.database.url, databaseWsProxy: t.database.proxy }, () => {});
    accountId = await createAccount(t.client);
    const make = (role: "admin" | "member", type: "user" | "service_account" = "user") =>
      createPrincipal(t.client, accountId, { role, type });
    principals = {
      admin: await make("admin"),
      secondAdmin: await make("admin"),
      owner: await make("member"),
      viewer: await make("member"),
      worker: await make("member", "service_account"),
      granted: await make("member"),
      nobody: await make("member"),
    };
    const { admin, owner, viewer, worker, granted } = principals;
    const grant = async (by: TestPrincipal, path: string, who: TestPrincipal, relation: string) => {
      const response = await callAs(t.client, by)("POST", `${path}/grants`, {
        subject: { type: who.type, id: who.id },
        relation,
      });
      expect(response.status, response.text).toBe(200);
    };
    agents = [
      await createAgent(t.client, admin),
      await createAgent(t.client, owner),
      await createAgent(t.client, admin),
    ];
    const [first, second, third] = agents as [string, string, string];
    await grant(admin, `/v1/agents/${first}`, viewer, "viewer");
    await grant(admin, `/v1/agents/${third}`, worker, "worker");
    await grant(owner, `/v1/agents/${second}`, viewer, "editor");
    const types = ["email", "summarize", "crawl"];
    const creators: [TestPrincipal, string][] = [
      [admin, first],
      [admin, second],
      [owner, second],
      [admin, third],
      [worker, third],
      [viewer, second],
    ];
    for (let i = 0; i < 24; i++) {
      const [creator, agent] = creators[i % creators.length] as [TestPrincipal, string];
      taskIds.push(await createTask(t.client, creator, agent, { type: types[i % 3] }));
    }
    for (const [i, id] of taskIds.entries()) {
      if (i % 5 === 0) await grant(admin, `/v1/tasks/${id}`, granted, i % 2 ? "viewer" : "editor");
      if (i % 7 === 3) {
        const canceled = await callAs(t.client, admin)("POST", `/v1/tasks/${id}/cancel`, { reason: "r" });
        expect(canceled.status).toBe(200);
      }
    }
    for (const [by, agent] of [
      [admin, first],
      [owner, second],
      [admin, second],
      [admin, third],
    ] as const) {
      const response = await callAs(t.client, by)("POST", `/v1/agents/${agent}/schedules`, {
        name: `schedule-${crypto.randomUUID()}`,
        cron: "0 * * * *",
        task: { type: "report" },
      });
      expect(response.status, response.text).toBe(201);
    }
    // Another account built alike must never show up.
    const elsewhere = await createPrincipal(t.client, await createAccount(t.client), { role: "admin" });
    await createTask(t.client, elsewhere, await createAgent(t.client, elsewhere));
  }, 300_000);

  afterAll(() => handle?.close());

  const taskFilters = (): [string, TaskFilters][] => [
    ["none", {}],
    ["state", { states: ["submitted"] }],
    ["states", { states: ["canceled", "submitted"] }],
    ["agent", { agentId: agents[1] }],
    ["other agent", { agentId: agents[2] }],
    ["type", { type: "email" }],
    ["creator", { createdBy: { type: "user", id: principals.owner.id } }],
    ["all together", { agentId: agents[1], states: ["submitted"], type: "summarize" }],
  ];

  it("tasks: the same pages in both shapes and through the API, under every filter", async () => {
    let seen = 0;
    for (const [name, principal] of Object.entries(principals)) {
      for (const [label, filters] of taskFilters()) {
        const pagesOf = (shape: Shape, limit: number) =>
          allPages(limit, (take, before) =>
            listTasks(
              handle.db,
              accountId,
              filters,
              scopeOf(principal, "task", sql`tasks.id`, shape),
              take,
              before,
            ),
          );
        const forward = await pagesOf("forward", 50);
        const items = forward.flat();
        expect(
          items.every((row) => taskIds.includes(row.id)),
          `${name} ${label}`,
        ).toBe(true);
        for (const limit of [1, 4, 50]) {
          expect(await pagesOf("driven", limit), `${name} ${label} driven by ${limit}`).toEqual(
            await pagesOf("forward", limit),
          );
        }
        const query = new URLSearchParams({ limit: "4" });
        if (filters.agentId) query.set("agent_id", filters.agentId);
        if (filters.states) query.set("state", filters.states.join(","));
        if (filters.type) query.set("type", filters.type);
        if (filters.createdBy) query.set("created_by", `${filters.createdBy.type}:${filters.createdBy.id}`);
        const viaApi: string[] = [];
        for (let cursor: string | null = ""; cursor !== null; ) {
          if (cursor) query.set("cursor", cursor);
          const response = await callAs(t.client, principal)("GET", `/v1/tasks?${query}`);
          expect(response.status).toBe(200);
          const body = response.body as { items: Listed[]; next_cursor: string | null };
          viaApi.push(...body.items.map((item) => item.id));
          cursor = body.next_cursor;
        }
        expect(viaApi, `${name} ${label} through the API`).toEqual(items.map((row) => row.id));
        seen += items.length;
      }
    }
    // The graph gives different principals different, non-empty views.
    expect(seen).toBeGreaterThan(100);
  }, 300_000);

  it("gives each principal what the graph says: admins all, the uninvited only their own", async () => {
    const visible = async (principal: TestPrincipal) =>
      (
        await listTasks(handle.db, accountId, {}, scopeOf(principal, "task", sql`tasks.id`, "driven"), 200)
      ).map((row) => row.id);
    expect((await visible(principals.admin)).toSorted()).toEqual(taskIds.toSorted());
    expect(await visible(principals.nobody)).toEqual([]);
    const granted = await visible(principals.granted);
    expect(granted.toSorted()).toEqual(taskIds.filter((_, i) => i % 5 === 0).toSorted());
  });

  it("agents and schedules: the same pages in both shapes", async () => {
    for (const [name, principal] of Object.entries(principals)) {
      for (const limit of [1, 2, 50]) {
        const agentPages = (shape: Shape) =>
          allPages(limit, (take, before) =>
            listAgents(
              handle.db,
              accountId,
              scopeOf(principal, "agent", sql`agents.id`, shape),
              take,
              before,
            ),
          );
        expect(await agentPages("driven"), `${name} agents by ${limit}`).toEqual(await agentPages("forward"));
        for (const agent of agents) {
          const schedulePages = (shape: Shape) =>
            allPages(limit, (take, before) =>
              listSchedules(
                handle.db,
                accountId,
                agent,
                scopeOf(principal, "schedule", sql`schedules.id`, shape),
                take,
                before,
              ),
            );
          expect(await schedulePages("driven"), `${name} schedules of ${agent} by ${limit}`).toEqual(
            await schedulePages("forward"),
          );
        }
      }
    }
    const admins = await listAgents(
      handle.db,
      accountId,
      scopeOf(principals.admin, "agent", sql`agents.id`, "driven"),
      50,
    );
    expect(admins.map((row) => row.id).toSorted()).toEqual(agents.toSorted());
  }, 300_000);
});
