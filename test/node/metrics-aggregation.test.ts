// Counters are summed per invocation and written once at its end (docs/operations.md, "Counters"):
// one `metrics` line per request or tick, one Analytics Engine data point per counter and tag set.
import { describe, expect, it } from "vitest";
import { membershipEdge } from "../../src/authz/model.ts";
import type { CronJob } from "../../src/cron/job.ts";
import { runTick } from "../../src/cron/tick.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { testBindings } from "../support/bindings.ts";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { spicedbForFile } from "../support/spicedb.ts";
import { callAs } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";

type Counter = { metric: string; tags: Record<string, string>; value: number };

function metricLines(lines: string[]) {
  return lines.map((line) => JSON.parse(line)).filter((entry) => entry.event === "metrics");
}

function recordingDataset() {
  const points: AnalyticsEngineDataPoint[] = [];
  return { points, dataset: { writeDataPoint: (point: AnalyticsEngineDataPoint) => points.push(point) } };
}

describe("counters aggregated per invocation", () => {
  const spicedb = spicedbForFile();
  const lines: string[] = [];
  const testApp = useTestApp({ logSink: (line) => lines.push(line) }, spicedb.bindings);

  it("sums equal counters and tag sets, keeps others apart, and writes nothing until flushed", () => {
    const logged: string[] = [];
    const { points, dataset } = recordingDataset();
    const metrics = createMetrics(
      createLogger((line) => logged.push(line)),
      dataset as unknown as AnalyticsEngineDataset,
    );
    metrics.count("authz.attempt", { op: "check", resource_type: "task" });
    metrics.count("authz.attempt", { resource_type: "task", op: "check" }, 2);
    metrics.count("authz.attempt", { op: "register", resource_type: "task" });
    metrics.count("cache.hit");
    expect(logged).toEqual([]);
    expect(points).toEqual([]);

    metrics.flush();
    const [line, ...rest] = metricLines(logged);
    expect(rest).toEqual([]);
    expect(line.counters).toEqual([
      { metric: "authz.attempt", tags: { op: "check", resource_type: "task" }, value: 3 },
      { metric: "authz.attempt", tags: { op: "register", resource_type: "task" }, value: 1 },
      { metric: "cache.hit", tags: {}, value: 1 },
    ]);
    expect(points).toEqual([
      {
        indexes: ["authz.attempt"],
        blobs: ["authz.attempt", "op=check", "resource_type=task"],
        doubles: [3],
      },
      {
        indexes: ["authz.attempt"],
        blobs: ["authz.attempt", "op=register", "resource_type=task"],
        doubles: [1],
      },
      { indexes: ["cache.hit"], blobs: ["cache.hit"], doubles: [1] },
    ]);

    metrics.flush();
    expect(metricLines(logged)).toHaveLength(1);
  });

  it("writes one metrics line for a request that counted several SpiceDB calls", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    lines.length = 0;
    const created = await callAs(testApp.client, owner)("POST", "/v1/agents", { name: "counted" });
    expect(created.status).toBe(201);
    const read = await callAs(testApp.client, owner)("GET", `/v1/agents/${created.body.id}`);
    expect(read.status).toBe(200);

    const entries = lines.map((line) => JSON.parse(line));
    expect(entries.filter((entry) => entry.event === "metric")).toEqual([]);
    const perRequest = metricLines(lines);
    // One line per request, each carrying that request's own request id.
    expect(perRequest).toHaveLength(2);
    expect(new Set(perRequest.map((entry) => entry.request_id)).size).toBe(2);
    for (const entry of perRequest) {
      const keys = (entry.counters as Counter[]).map((c) => JSON.stringify([c.metric, c.tags]));
      expect(new Set(keys).size).toBe(keys.length);
      const attempts = (entry.counters as Counter[])
        .filter((c) => c.metric === "authz.attempt")
        .reduce((sum, c) => sum + c.value, 0);
      const successes = (entry.counters as Counter[])
        .filter((c) => c.metric === "authz.success")
        .reduce((sum, c) => sum + c.value, 0);
      expect(attempts).toBeGreaterThan(0);
      expect(successes).toBe(attempts);
    }
  });

  it("writes one metrics line for a tick, summing its jobs' counters", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const edge = membershipEdge(owner, "member");
    const writesTwice: CronJob = {
      name: "writes_twice",
      async runOnce({ db, authorizer }) {
        await authorizer.writeEdges(db, [edge], []);
        await authorizer.writeEdges(db, [edge], []);
        return { writes: 2 };
      },
    };
    const writesOnce: CronJob = {
      name: "writes_once",
      async runOnce({ db, authorizer }) {
        await authorizer.writeEdges(db, [edge], []);
        return { writes: 1 };
      },
    };
    const tickLines: string[] = [];
    const { points, dataset } = recordingDataset();
    await runTick(testBindings(testApp.database, { ...spicedb.bindings, METRICS: dataset }), new Date(), {
      jobs: [writesTwice, writesOnce],
      logSink: (line) => tickLines.push(line),
    });
    const [line, ...rest] = metricLines(tickLines);
    expect(rest).toEqual([]);
    const counters = line.counters as Counter[];
    const byName = Object.fromEntries(counters.map((c) => [c.metric, c]));
    expect(counters).toHaveLength(2);
    expect(byName["authz.attempt"]?.value).toBe(3);
    expect(byName["authz.success"]?.value).toBe(3);
    expect(points.map((point) => [point.indexes?.[0], point.doubles?.[0]])).toEqual([
      ["authz.attempt", 3],
      ["authz.success", 3],
    ]);
  });
});
