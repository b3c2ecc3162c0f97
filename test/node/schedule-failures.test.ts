// The create/delete discipline for schedules (issue 7), each failure injected where it happens:
// registration, after registration, after commit, and the clean-up of a delete.
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { type Authorizer, createPostgresAuthorizer } from "../../src/authz/authorizer.ts";
import { insertRelationships } from "../../src/authz/repo.ts";
import { runTick } from "../../src/cron/tick.ts";
import { openDatabase } from "../../src/db/client.ts";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { edgesNaming, queryRows } from "../support/graph.ts";
import { callAs, createAgent } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";
import { createTestClient } from "../support/test-client.ts";

type Queryable = { query: (...args: unknown[]) => unknown; connect: (...args: unknown[]) => unknown };

describe("schedule failure discipline", () => {
  const testApp = useTestApp();
  const body = { name: "every-minute", cron: "* * * * *", task: { type: "report" } };

  async function ownerWithAgent() {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    return { owner, agentId, base: `/v1/agents/${agentId}/schedules` };
  }
  const scheduleEdges = async (accountId: string) =>
    (
      await queryRows<{ n: number }>(
        testApp.database,
        "SELECT count(*)::int AS n FROM authz_relationships WHERE resource_type = 'schedule' AND subject_id = $1",
        [accountId],
      )
    )[0]?.n;

  it.each(["before", "after"] as const)(
    "creates nothing when registration fails %s writing the edges: 500, and a GET finds nothing",
    async (when) => {
      const { owner, base } = await ownerWithAgent();
      const failing = (): Authorizer => ({
        ...createPostgresAuthorizer(),
        // The registration joins the create's transaction, then fails there: nothing may commit.
        register: async (edges) => ({
          persist: async (tx) => {
            if (when === "after") await insertRelationships(tx, edges);
            throw new Error(`injected registration failure ${when} the edges`);
          },
          settle: async () => {},
        }),
      });
      const client = createTestClient(
        createApp({ authorizer: failing, logSink: () => {} }),
        testApp.client.env,
      );
      const response = await callAs(client, owner)("POST", base, body);
      expect(response.status).toBe(500);
      expect(response.text).not.toContain("injected");
      expect((await callAs(testApp.client, owner)("GET", base)).body.items).toEqual([]);
      expect(await scheduleEdges(owner.accountId)).toBe(0);
    },
  );

  it("keeps a committed create when the read after commit fails: 201, and the schedule exists", async () => {
    const { owner, base } = await ownerWithAgent();
    let committed = false;
    let refusedAfterCommit = 0;
    // In shadow mode the request re-reads the graph after the response; that read fails here.
    const client = createTestClient(
      createApp({
        logSink: () => {},
        openDatabase: (settings, onPoolError) =>
          openDatabase(settings, onPoolError, {
            statement: () => {
              if (!committed) return undefined;
              refusedAfterCommit++;
              throw new Error("injected: connection lost after commit");
            },
            connection: (connection) => {
              const query = (connection as unknown as Queryable).query.bind(connection);
              (connection as unknown as Queryable).query = (...queryArgs: unknown[]) => {
                const first = queryArgs[0] as string | { text?: string };
                const text = typeof first === "string" ? first : first?.text;
                if (/^\s*commit/i.test(text ?? "")) committed = true;
                return query(...queryArgs);
              };
            },
          }),
      }),
      { ...testApp.client.env, FGAC_AGENTS: "shadow" },
    );
    const response = await callAs(client, owner)("POST", base, body);
    expect(response.status).toBe(201);
    expect(refusedAfterCommit).toBeGreaterThan(0);
    const read = await callAs(testApp.client, owner)("GET", `${base}/${response.body.id}`);
    expect(read.body).toEqual(response.body);
    expect(await edgesNaming(testApp.database, response.body.id as string)).toBe(3);
  });

  it("deletes even when removing the edges fails, and the cron removes them later", async () => {
    const { owner, base } = await ownerWithAgent();
    const created = await callAs(testApp.client, owner)("POST", base, body);
    const id = created.body.id as string;
    const failingCleanUp = () =>
      createPostgresAuthorizer(async () => {
        throw new Error("injected edge clean-up failure");
      });
    const client = createTestClient(
      createApp({ authorizer: failingCleanUp, logSink: () => {} }),
      testApp.client.env,
    );
    expect((await callAs(client, owner)("DELETE", `${base}/${id}`)).status).toBe(204);
    expect((await callAs(testApp.client, owner)("GET", `${base}/${id}`)).status).toBe(404);
    expect(await edgesNaming(testApp.database, id)).toBe(3);
    const outbox = await queryRows(testApp.database, "SELECT object_type, object_ids FROM authz_outbox");
    expect(outbox).toContainEqual({ object_type: "schedule", object_ids: [id] });

    const counts = await runTick(testApp.client.env, new Date(), { logSink: () => {} });
    expect(counts.authz_outbox).toMatchObject({ completed: expect.any(Number), failed: 0 });
    expect(await edgesNaming(testApp.database, id)).toBe(0);
  });

  it("refuses a second run for the same schedule and instant in the database itself", async () => {
    const { owner, base } = await ownerWithAgent();
    const created = await callAs(testApp.client, owner)("POST", base, body);
    const run = await callAs(testApp.client, owner)("POST", `${base}/${created.body.id}/trigger`);
    const duplicate = queryRows(
      testApp.database,
      `INSERT INTO tasks (id, account_id, agent_id, type, max_attempts, schedule_id, scheduled_for)
       SELECT 'tsk_duplicate', account_id, agent_id, type, max_attempts, schedule_id, scheduled_for
       FROM tasks WHERE id = $1`,
      [run.body.id],
    );
    await expect(duplicate).rejects.toThrow(/tasks_schedule_run_key/);
  });
});
