// A member (or service account) that created thousands of tasks holds an owner edge on each; right
// after such a burst the planner's statistics do not know it. A permission check correlated to the
// row was then planned as a hash of every one of those edges, built by every progress report,
// complete and read (33 ms a statement at 8,000 tasks in the bench), and a batch complete found
// its rows by scanning the backlog (ADR 0024). The statements the routes send are run again under
// EXPLAIN ANALYZE: what they read must not grow with the backlog or the edges the caller holds.
import { describe, expect, it } from "vitest";
import { principalSubject } from "../../src/authz/subjects.ts";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { queryRows } from "../support/graph.ts";
import { type CapturedStatement, capturingStatements, explainAnalyze } from "../support/query-plans.ts";
import { callAs, createAgent } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";

const created = 3_000;

describe("statements after a burst of creates", () => {
  const captured: CapturedStatement[] = [];
  const t = useTestApp(capturingStatements(captured));

  type Granted = { task: { id: string }; lease: { worker_id: string; epoch: number } };

  /** A member that just created `created` tasks, and `claimed` of them claimed by worker `w`. */
  async function afterBurst(claimed: number) {
    const member = await createAccountWithPrincipal(t.client, { role: "member" });
    const agentId = await createAgent(t.client, member);
    const call = callAs(t.client, member);
    for (let sent = 0; sent < created; sent += 1_000) {
      const batch = await call("POST", "/v1/tasks/batch", {
        agent_id: agentId,
        tasks: Array.from({ length: 1_000 }, () => ({ type: "burst" })),
      });
      expect(batch.status, batch.text).toBe(201);
    }
    const edges = await queryRows<{ n: number }>(
      t.database,
      "SELECT count(*)::int AS n FROM authz_relationships WHERE resource_type = 'task' AND relation = 'owner' AND subject_id = $1",
      [principalSubject(member).id],
    );
    expect(edges[0]?.n).toBe(created);
    const claim = await call("POST", "/v1/leases", {
      agent_id: agentId,
      worker_id: "w",
      lease_seconds: 600,
      max_tasks: claimed,
    });
    expect(claim.status).toBe(200);
    const items = claim.body.items as Granted[];
    expect(items).toHaveLength(claimed);
    return { call, items };
  }

  it("read a handful of rows, not one per edge the caller holds", async () => {
    const {
      call,
      items: [granted],
    } = await afterBurst(1);
    if (!granted) throw new Error("nothing claimed");
    const id = granted.task.id;

    // Each route's statement, sent once for real and run again (both are repeatable) under EXPLAIN.
    const routes: [string, () => Promise<{ status: number }>][] = [
      [
        "progress",
        () =>
          call("POST", `/v1/tasks/${id}/progress`, {
            worker_id: "w",
            epoch: granted.lease.epoch,
            progress: { pct: 50 },
          }),
      ],
      ["get", () => call("GET", `/v1/tasks/${id}`)],
    ];
    for (const [name, send] of routes) {
      captured.length = 0;
      expect((await send()).status, name).toBe(200);
      expect(captured, name).toHaveLength(1);
      const plan = await explainAnalyze(t.database, captured[0] as CapturedStatement);
      expect(plan.rowsExamined, `${name}: ${plan.scans.join(", ")}`).toBeLessThan(50);
    }
  }, 120_000);

  it("complete a batch by its ids, not by a scan of the backlog or of the caller's edges", async () => {
    const { call, items } = await afterBurst(50);
    captured.length = 0;
    const completions = items.map(({ task, lease }) => ({
      id: task.id,
      worker_id: lease.worker_id,
      epoch: lease.epoch,
      result: null,
    }));
    const response = await call("POST", "/v1/tasks/batch-complete", { items: completions });
    expect(response.status).toBe(200);
    expect(captured).toHaveLength(1);
    // Put the batch back under its leases, and complete it again under EXPLAIN.
    await queryRows(
      t.database,
      `UPDATE tasks SET state = 'working', result = NULL, finished_at = NULL,
         lease_expires_at = now() + interval '10 minutes' WHERE id = ANY($1)`,
      [items.map((item) => item.task.id)],
    );
    const plan = await explainAnalyze(t.database, captured[0] as CapturedStatement);
    const completed = await queryRows<{ n: number }>(
      t.database,
      "SELECT count(*)::int AS n FROM tasks WHERE id = ANY($1) AND state = 'completed'",
      [items.map((item) => item.task.id)],
    );
    expect(completed[0]?.n).toBe(50);
    expect(plan.rowsExamined, plan.scans.join(", ")).toBeLessThan(50 * 20);
  }, 120_000);
});
