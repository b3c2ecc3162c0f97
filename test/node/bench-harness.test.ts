// The benchmark's own machinery, on the test server: every system drains what it enqueued and
// the database confirms it, and a drain that leaves work behind is an error, not a number.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runCell } from "../../bench/cell.ts";
import { type BenchEnvironment, connectBenchEnvironment } from "../../bench/environment.ts";
import { percentiles } from "../../bench/extras/latency.ts";
import { graphileWorkerSystem } from "../../bench/systems/graphile-worker.ts";
import { leaseholdSystem } from "../../bench/systems/leasehold.ts";
import { pgBossSystem } from "../../bench/systems/pg-boss.ts";
import type { BenchSystem } from "../../bench/systems/system.ts";

describe("benchmark harness", () => {
  let env: BenchEnvironment;
  const templates = new Map<string, string>();
  beforeAll(async () => {
    env = await connectBenchEnvironment(inject("databaseUrl"), inject("dbProxy"), "test server");
  });
  afterAll(async () => {
    await env?.close();
  });

  async function templateFor(system: BenchSystem): Promise<string> {
    const family = system.id.split("-")[0] as string;
    if (!templates.has(family)) templates.set(family, await env.createTemplate(family, system.buildTemplate));
    return templates.get(family) as string;
  }

  const systems = () => [
    ...[false, true].flatMap((batched) => [
      leaseholdSystem({ layer: "http", driver: "pg", batched, proxyAddress: inject("dbProxy") }),
      leaseholdSystem({ layer: "sql", driver: "pg", batched, proxyAddress: inject("dbProxy") }),
      pgBossSystem(batched),
      graphileWorkerSystem(batched),
    ]),
  ];

  it.each(systems().map((system) => [system.id]))(
    "%s drains every job it enqueued, confirmed by the database",
    async (id) => {
      const system = systems().find((candidate) => candidate.id === id) as BenchSystem;
      const result = await runCell(env, system, await templateFor(system), 150, 4);
      expect(result).toMatchObject({ system: id, jobs: 150, consumers: 4 });
      expect(result.jobsPerSecond).toBeGreaterThan(0);
      expect(result.enqueuePerSecond).toBeGreaterThan(0);
      // Read from the WAL between the drain's positions: every system writes at least one
      // record per job (its completion), and no record is less than 24 bytes.
      expect(result.walRecordsPerJob).toBeGreaterThanOrEqual(1);
      expect(result.walBytesPerJob).toBeGreaterThanOrEqual(24 * result.walRecordsPerJob);
    },
    60_000,
  );

  it("refuses a drain that leaves jobs undone", async () => {
    const honest = leaseholdSystem({
      layer: "sql",
      driver: "pg",
      batched: false,
      proxyAddress: inject("dbProxy"),
    });
    const lazy: BenchSystem = {
      ...honest,
      id: "lazy",
      async open(url, consumers) {
        const run = await honest.open(url, consumers);
        return { ...run, drain: async () => {} };
      },
    };
    await expect(runCell(env, lazy, await templateFor(honest), 20, 2)).rejects.toThrow(
      "the database records 0 of 20 jobs done",
    );
  });

  it("computes percentiles by rank", () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentiles(values)).toEqual({ p50: 51, p95: 96, samples: 100 });
  });
});
