// Deleting must succeed even when removing the deleted objects' edges fails; the edges are then
// removed by the cron, once, however many drains run at the same time.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { createPostgresAuthorizer, type RemoveEdges } from "../../src/authz/authorizer.ts";
import { deleteObjectsRelationships } from "../../src/authz/repo.ts";
import { unlimitedBudget } from "../../src/cron/budget.ts";
import { openDatabase } from "../../src/db/client.ts";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { edgesNaming, queryRows } from "../support/graph.ts";
import { callAs, createAgent, createTask } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";
import { createTestClient } from "../support/test-client.ts";

type Entry = {
  object_type: string;
  object_ids: string[];
  attempts: number;
  last_error: string;
  due: boolean;
};

describe("authorization outbox", () => {
  const testApp = useTestApp();
  const failing: RemoveEdges = async () => {
    throw new Error("injected edge clean-up failure");
  };
  const entries = () =>
    queryRows<Entry>(
      testApp.database,
      "SELECT object_type, object_ids, attempts, last_error, next_attempt_at <= now() AS due FROM authz_outbox ORDER BY id",
    );
  const withDatabase = async <T>(use: (db: ReturnType<typeof openDatabase>["db"]) => Promise<T>) => {
    const handle = openDatabase(
      { databaseUrl: testApp.database.url, databaseWsProxy: testApp.database.proxy },
      () => {},
    );
    try {
      return await use(handle.db);
    } finally {
      await handle.close();
    }
  };

  async function deleteWithFailingCleanUp() {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const taskId = await createTask(testApp.client, owner, agentId);
    const client = createTestClient(
      createApp({ authorizer: () => createPostgresAuthorizer(failing), logSink: () => {} }),
      testApp.client.env,
    );
    const response = await callAs(client, owner)("DELETE", `/v1/tasks/${taskId}`);
    expect(response.status).toBe(204);
    expect((await callAs(testApp.client, owner)("GET", `/v1/tasks/${taskId}`)).status).toBe(404);
    return taskId;
  }

  it("lets the delete succeed, keeps the edges in the outbox, and the cron removes them", async () => {
    const taskId = await deleteWithFailingCleanUp();
    expect(await edgesNaming(testApp.database, taskId)).toBeGreaterThan(0);
    expect(await entries()).toEqual([
      {
        object_type: "task",
        object_ids: [taskId],
        attempts: 0,
        last_error: "Error: injected edge clean-up failure",
        due: true,
      },
    ]);
    const counts = await withDatabase((db) => createPostgresAuthorizer().drainOutbox(db, unlimitedBudget));
    expect(counts).toEqual({ completed: 1, failed: 0, deferred: 0 });
    expect(await edgesNaming(testApp.database, taskId)).toBe(0);
    expect(await entries()).toEqual([]);
  });

  it("backs off a clean-up that keeps failing and keeps its entry", async () => {
    const taskId = await deleteWithFailingCleanUp();
    const counts = await withDatabase((db) =>
      createPostgresAuthorizer(failing).drainOutbox(db, unlimitedBudget),
    );
    expect(counts).toEqual({ completed: 0, failed: 1, deferred: 0 });
    expect(await entries()).toMatchObject([{ object_ids: [taskId], attempts: 1, due: false }]);
    // Not due yet: a second drain right away leaves it alone.
    expect(await withDatabase((db) => createPostgresAuthorizer().drainOutbox(db, unlimitedBudget))).toEqual({
      completed: 0,
      failed: 0,
      deferred: 0,
    });
    expect(await edgesNaming(testApp.database, taskId)).toBeGreaterThan(0);
  });

  it("removes each entry's edges once when drains run in parallel", async () => {
    const taskIds = [
      await deleteWithFailingCleanUp(),
      await deleteWithFailingCleanUp(),
      await deleteWithFailingCleanUp(),
    ];
    let removals = 0;
    const counting: RemoveEdges = async (tx, type, ids) => {
      removals++;
      await deleteObjectsRelationships(tx, type, ids);
    };
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        withDatabase((db) => createPostgresAuthorizer(counting).drainOutbox(db, unlimitedBudget)),
      ),
    );
    expect(results.reduce((sum, counts) => sum + counts.completed, 0)).toBe(3);
    expect(removals).toBe(3);
    const left = (await entries()).flatMap((entry) => entry.object_ids);
    expect(left.filter((id) => taskIds.includes(id))).toEqual([]);
    for (const id of taskIds) expect(await edgesNaming(testApp.database, id)).toBe(0);
  });

  it("keeps a database error's values out of the entry an operator reads", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const taskId = await createTask(testApp.client, owner, await createAgent(testApp.client, owner));
    const marker = "secret-payload@example.com";
    // A real PostgreSQL error whose message and drizzle wrapping both quote the parameter.
    const failingWithValues: RemoveEdges = async (tx) => {
      await tx.execute(sql`SELECT ${marker}::int`);
    };
    const client = createTestClient(
      createApp({ authorizer: () => createPostgresAuthorizer(failingWithValues), logSink: () => {} }),
      testApp.client.env,
    );
    expect((await callAs(client, owner)("DELETE", `/v1/tasks/${taskId}`)).status).toBe(204);
    const [entry] = (await entries()).filter((row) => row.object_ids.includes(taskId));
    expect(entry?.last_error).toContain("22P02");
    expect(entry?.last_error).not.toContain(marker);
    expect(entry?.last_error).not.toMatch(/SELECT|params/i);
  });
});
