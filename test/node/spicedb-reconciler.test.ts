// After the reconciler (the cron's authz_outbox job) runs, SpiceDB and the rows agree exactly,
// whatever was interrupted; and schedules spawn on this backend without orphan edges.
import { beforeEach, describe, expect, it } from "vitest";
import { SpiceDbClient } from "../../src/authz/spicedb/client.ts";
import { registerEdges } from "../../src/authz/spicedb/relationships.ts";
import { sweepGraceMs } from "../../src/authz/spicedb/sweep.ts";
import { cronJobs } from "../../src/cron/jobs.ts";
import { runTick } from "../../src/cron/tick.ts";
import { newId } from "../../src/lib/ids.ts";
import { createAccountWithPrincipal, type TestPrincipal } from "../support/factories.ts";
import { queryRows } from "../support/graph.ts";
import { spicedbForFile } from "../support/spicedb.ts";
import { callAs, createAgent } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";

describe("spicedb reconciler", () => {
  const spicedb = spicedbForFile();
  const testApp = useTestApp({ logSink: () => {} }, spicedb.bindings);
  let owner: TestPrincipal;
  beforeEach(async () => {
    await spicedb.reset();
    await queryRows(testApp.database, "DELETE FROM authz_sweep_cursors");
    owner = await createAccountWithPrincipal(testApp.client);
  });
  const resourceIds = async (type: string) =>
    [
      ...new Set((await spicedb.edges(type)).map((edge) => edge.slice(type.length + 1, edge.indexOf("#")))),
    ].sort();
  const rowIds = async (table: string) =>
    (await queryRows<{ id: string }>(testApp.database, `SELECT id FROM ${table} ORDER BY id`)).map(
      (r) => r.id,
    );
  const registerWithoutRow = (id: string) =>
    registerEdges(
      new SpiceDbClient({ url: spicedb.url, token: spicedb.token, metrics: { count: () => {} } }),
      [
        {
          resourceType: "agent",
          resourceId: id,
          relation: "account",
          subject: { type: "account", id: owner.accountId },
        },
      ],
    );

  it("removes edges of resources that never got a row, once they are older than the grace period", async () => {
    const agentId = await createAgent(testApp.client, owner);
    const died = newId("agt", Date.now() - sweepGraceMs - 60_000);
    const inFlight = newId("agt");
    await registerWithoutRow(died);
    await registerWithoutRow(inFlight);
    const counts = await runTick(testApp.client.env, new Date(), { logSink: () => {} });
    expect(counts.authz_outbox).toMatchObject({ orphans: 1, failed: 0 });
    expect(await resourceIds("agent")).toEqual([agentId, inFlight].sort());
    // Once the create in flight is as old, it goes too: graph and rows agree exactly.
    await runTick(testApp.client.env, new Date(Date.now() + sweepGraceMs + 1000), { logSink: () => {} });
    expect(await resourceIds("agent")).toEqual(await rowIds("agents"));
  });

  it("spawns schedule runs registered in SpiceDB, one per minute under three parallel ticks", async () => {
    const agentId = await createAgent(testApp.client, owner);
    const created = await callAs(testApp.client, owner)("POST", `/v1/agents/${agentId}/schedules`, {
      name: "each-minute",
      cron: "* * * * *",
      overlap: "allow",
      task: { type: "report" },
    });
    const first = new Date(created.body.next_fire_at as string);
    const jobs = cronJobs.filter((job) => job.name === "schedules");
    for (let minute = 0; minute < 2; minute++) {
      const now = new Date(first.getTime() + minute * 60_000);
      await Promise.all([1, 2, 3].map(() => runTick(testApp.client.env, now, { logSink: () => {}, jobs })));
    }
    const runs = await rowIds("tasks");
    expect(runs).toHaveLength(2);
    expect(await resourceIds("task")).toEqual(runs);
    expect(await resourceIds("schedule")).toEqual([created.body.id]);
    const run = await callAs(testApp.client, owner)("GET", `/v1/tasks/${runs[0]}`);
    expect(run.body).toMatchObject({ schedule_id: created.body.id, created_by: { id: owner.id } });
  });
});
