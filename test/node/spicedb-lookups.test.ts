// The spicedb backend's calls per operation (ADR 0018): deregistration derived from the schema
// (only types that are ever subjects are deleted as subjects), and list filters read
// LookupResources page by page, exactly, past one page and past the cap.
import { beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { subjectTypes } from "../../src/authz/model.ts";
import { createSpiceDbAuthorizer, lookupPageCap } from "../../src/authz/spicedb/authorizer.ts";
import { deregistrationCalls } from "../../src/authz/spicedb/relationships.ts";
import { openDatabase } from "../../src/db/client.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { createAccountWithPrincipal, createPrincipal, type TestPrincipal } from "../support/factories.ts";
import { queryRows } from "../support/graph.ts";
import { spicedbForFile } from "../support/spicedb.ts";
import { callsSince, clientFor, seedTasks } from "../support/spicedb-seed.ts";
import { callAs, createAgent, createTask } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";
import { createTestClient, type TestClient } from "../support/test-client.ts";

const remove = "/v1/relationships/delete";
const lookup = "/v1/permissions/resources";

describe("spicedb backend: calls per operation", () => {
  const spicedb = spicedbForFile();
  const testApp = useTestApp({ logSink: () => {} }, spicedb.bindings);
  let owner: TestPrincipal;
  let agentId: string;
  beforeEach(async () => {
    await spicedb.reset();
    await queryRows(testApp.database, "DELETE FROM tasks");
    owner = await createAccountWithPrincipal(testApp.client, { role: "admin" });
    agentId = await createAgent(testApp.client, owner);
  });

  /** Every task id the principal's list shows, following cursors 200 at a time. */
  async function listAll(client: TestClient, principal: TestPrincipal): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${cursor}` : "";
      const page = await callAs(client, principal)("GET", `/v1/tasks?limit=200${query}`);
      expect(page.status).toBe(200);
      ids.push(...(page.body.items as { id: string }[]).map((item) => item.id));
      cursor = page.body.next_cursor as string | null;
    } while (cursor);
    return ids;
  }

  async function viewerOfAgent(): Promise<TestPrincipal> {
    const viewer = await createPrincipal(testApp.client, owner.accountId, { role: "member" });
    const granted = await callAs(testApp.client, owner)("POST", `/v1/agents/${agentId}/grants`, {
      subject: { type: "user", id: viewer.id },
      relation: "viewer",
    });
    expect(granted.status).toBeLessThan(300);
    return viewer;
  }

  it("deregisters as subject only the types the schema ever makes subjects", async () => {
    expect([...subjectTypes].sort()).toEqual(["account", "agent", "service_account", "user"]);
    expect(
      Object.fromEntries(
        ["task", "schedule", "api_key", "agent", "account", "user", "service_account"].map((type) => [
          type,
          deregistrationCalls(type),
        ]),
      ),
    ).toEqual({ task: 1, schedule: 1, api_key: 1, agent: 2, account: 2, user: 1, service_account: 1 });

    const taskId = await createTask(testApp.client, owner, agentId);
    let before = await spicedb.calls();
    expect((await callAs(testApp.client, owner)("DELETE", `/v1/tasks/${taskId}`)).status).toBe(204);
    // Before this change: 2 (as resource and as subject).
    expect((await callsSince(spicedb, before))[remove]).toBe(1);

    const key = await callAs(testApp.client, owner)("POST", `/v1/agents/${agentId}/api-keys`, {});
    expect(key.status).toBe(201);
    before = await spicedb.calls();
    const revoked = await callAs(testApp.client, owner)(
      "DELETE",
      `/v1/agents/${agentId}/api-keys/${key.body.id}`,
    );
    expect(revoked.status).toBe(204);
    // The api_key as resource, its service account as subject (before: 3).
    expect((await callsSince(spicedb, before))[remove]).toBe(2);
    expect((await spicedb.edges("agent")).filter((edge) => edge.includes("#worker@"))).toEqual([]);
  });

  it("reads a list's lookup page by page: a viewer of an agent with 1,500 tasks lists them all, once each", async () => {
    const seeded = await seedTasks(testApp.database, spicedb, {
      accountId: owner.accountId,
      agentId,
      count: 1500,
      finishedDaysAgo: null,
    });
    const viewer = await viewerOfAgent();
    const before = await spicedb.calls();
    const first = await callAs(testApp.client, viewer)("GET", "/v1/tasks?limit=200");
    expect(first.status).toBe(200);
    // 1,000 per page: two LookupResources calls, the second from the first one's cursor.
    expect((await callsSince(spicedb, before))[lookup]).toBe(2);
    expect((await spicedb.last())[lookup]).toMatchObject({ optionalLimit: 1000, optionalCursor: {} });
    const listed = await listAll(testApp.client, viewer);
    expect(listed).toHaveLength(1500);
    expect(new Set(listed)).toEqual(new Set(seeded));
    // The newest first, as on every list.
    expect(listed).toEqual([...listed].sort().reverse());
  });

  it("counts a lookup past the cap and still lists exactly", async () => {
    const counted: string[] = [];
    const handle = openDatabase(
      { databaseUrl: testApp.database.url, databaseWsProxy: testApp.database.proxy },
      () => {},
    );
    try {
      const app = createApp({
        logSink: () => {},
        authorizer: () =>
          createSpiceDbAuthorizer({
            client: clientFor(spicedb),
            db: () => handle.db,
            logger: createLogger(() => {}),
            metrics: { count: (name) => void counted.push(name) },
            lookupPageSize: 10,
          }),
      });
      const client = createTestClient(app, testApp.client.env);
      const pageSize = 10;
      const total = lookupPageCap * pageSize + 55;
      const seeded = await seedTasks(testApp.database, spicedb, {
        accountId: owner.accountId,
        agentId,
        count: total,
        finishedDaysAgo: null,
      });
      const viewer = await viewerOfAgent();
      const before = await spicedb.calls();
      const listed = await listAll(client, viewer);
      expect(new Set(listed)).toEqual(new Set(seeded));
      expect(listed).toHaveLength(total);
      expect((await callsSince(spicedb, before))[lookup]).toBe(Math.ceil((total + 1) / pageSize));
      expect(counted.filter((name) => name === "authz.lookup_over_cap")).toHaveLength(1);
    } finally {
      await handle.close();
    }
  });
});
