// `npm run bench [-- --quick] [-- --out FILE] [-- --ignore-load]`: leasehold beside pg-boss and
// graphile-worker on one PostgreSQL, then the report. See docs/benchmarks.md.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { runCell } from "./cell.ts";
import { startBenchEnvironment } from "./environment.ts";
import { claimLatency, submitToClaim } from "./extras/latency.ts";
import { reclaimExpired } from "./extras/reclaim.ts";
import { countTransitionStatements } from "./extras/statements.ts";
import { workerLatency } from "./extras/worker-latency.ts";
import { compareRuntimes } from "./extras/wrangler-dev.ts";
import { fullPlan, type Mode, quickPlan } from "./plan.ts";
import { type RunReport, renderReport } from "./report.ts";
import { graphileWorkerSystem } from "./systems/graphile-worker.ts";
import { leaseholdSystem, migrateLeasehold } from "./systems/leasehold.ts";
import { pgBossSystem } from "./systems/pg-boss.ts";
import type { BenchSystem } from "./systems/system.ts";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    out: { type: "string" },
    driver: { type: "string", default: "pg" },
    "ignore-load": { type: "boolean", default: false },
  },
});
const plan = args.quick ? quickPlan : fullPlan;
const driver = args.driver === "neon" ? "neon" : "pg";
const out = args.out ?? (args.quick ? "bench-results/quick.md" : "BENCHMARKS.md");
const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

// Another workload would distort every ratio. A 1-minute load average decays slowly after the
// previous run, so wait up to two minutes for it; then refuse above one runnable task per core.
async function waitForQuietMachine(): Promise<void> {
  const cores = os.availableParallelism();
  for (let waited = 0; ; waited += 10) {
    const load = os.loadavg()[0] ?? 0;
    if (load < cores * 0.5) return;
    if (waited >= 120) {
      const message = `load average ${load.toFixed(2)} on ${cores} cores before the run`;
      if (load < cores) return log(`WARNING ${message}; the report shows the load of every cell`);
      if (args["ignore-load"]) return log(`WARNING ${message}; running anyway (--ignore-load)`);
      throw new Error(`${message}: stop the other workload, or pass --ignore-load.`);
    }
    log(`load average ${load.toFixed(2)} on ${cores} cores; waiting for it to settle`);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
  }
}

const startedAt = new Date();
await waitForQuietMachine();
const loadAtStart = os.loadavg()[0] ?? 0;
const env = await startBenchEnvironment();
try {
  const proxyAddress = env.proxyAddress;
  const systems: Record<Mode, BenchSystem[]> = {
    unbatched: [
      leaseholdSystem({ layer: "http", driver, batched: false, proxyAddress }),
      leaseholdSystem({ layer: "sql", driver, batched: false, proxyAddress }),
      pgBossSystem(false),
      graphileWorkerSystem(false),
    ],
    batched: [
      leaseholdSystem({ layer: "http", driver, batched: true, proxyAddress }),
      leaseholdSystem({ layer: "sql", driver, batched: true, proxyAddress }),
      pgBossSystem(true),
      graphileWorkerSystem(true),
    ],
  };
  log(`${env.description.postgres} (${env.description.source}); building templates`);
  // One template per system family (the batched and unbatched modes share a schema).
  const leaseholdTemplate = await env.createTemplate("leasehold", migrateLeasehold);
  const families = new Map<string, string>([["leasehold", leaseholdTemplate]]);
  const templates = new Map<string, string>();
  for (const system of [...systems.unbatched, ...systems.batched]) {
    const family = system.id.startsWith("leasehold") ? "leasehold" : system.id.replace("-batched", "");
    if (!families.has(family)) {
      families.set(family, await env.createTemplate(family.replace("-", "_"), system.buildTemplate));
    }
    templates.set(system.id, families.get(family) as string);
  }

  const cells: RunReport["cells"] = [];
  const repetitions = Math.max(...plan.cells.map((cell) => cell.repetitions));
  for (let rep = 0; rep < repetitions; rep++) {
    for (const cell of plan.cells.filter((c) => rep < c.repetitions)) {
      const list = systems[cell.mode];
      // Rotate the order each repetition so no system always runs first (or last) in a cell.
      const order = list.map((_, i) => list[(i + rep) % list.length] as BenchSystem);
      for (const system of order) {
        const result = await runCell(
          env,
          system,
          templates.get(system.id) as string,
          cell.jobs,
          cell.consumers,
        );
        cells.push({ ...result, mode: cell.mode });
        log(
          `${cell.mode} M=${cell.jobs} N=${cell.consumers} rep ${rep + 1}: ${system.label} ${Math.round(result.jobsPerSecond)} jobs/s`,
        );
      }
    }
  }

  log("statements per transition");
  const statements = await countTransitionStatements(env, leaseholdTemplate);
  log("claim latency");
  const small = await claimLatency(env, leaseholdTemplate, plan.claimLatency.small, plan.claimLatency.claims);
  const large = await claimLatency(env, leaseholdTemplate, plan.claimLatency.large, plan.claimLatency.claims);
  log("submit → claim");
  const submit = await submitToClaim(
    env,
    leaseholdTemplate,
    plan.submitToClaim.tasks,
    plan.submitToClaim.pollMs,
  );
  log("reclaim");
  const reclaim = await reclaimExpired(env, leaseholdTemplate, plan.reclaimLeases);
  log("wrangler dev");
  const runtime = await compareRuntimes(env, leaseholdTemplate, plan.runtime.jobs, plan.runtime.consumers);
  log("request latency through wrangler dev");
  const workerLatencies = [];
  for (const transport of ["websocket", "http"] as const) {
    workerLatencies.push(
      await workerLatency(env, leaseholdTemplate, transport, {
        samples: plan.workerLatency.samples,
        concurrency: plan.runtime.consumers,
      }),
    );
  }

  const cpus = os.cpus();
  const report: RunReport = {
    plan,
    command: `npm run bench${args.quick ? " -- --quick" : ""}${driver === "neon" ? " -- --driver neon" : ""}`,
    startedAt,
    minutes: (Date.now() - startedAt.getTime()) / 60_000,
    loadAtStart,
    machine: {
      cpu: `${cpus.length} × ${cpus[0]?.model ?? "unknown"}`,
      memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
      os: `${os.type()} ${os.release()}`,
      node: process.version,
      postgres: `${env.description.postgres}, ${env.description.source}; ${Object.entries(
        env.description.settings,
      )
        .map(([name, value]) => `${name}=${value}`)
        .join(", ")}`,
      "leasehold driver":
        driver === "pg"
          ? "node-postgres (pg), one shared pool per cell"
          : "Neon serverless over the local bridge, one shared pool per cell",
      peers: "pg-boss 12.27.0, graphile-worker 0.18.0",
    },
    labels: Object.fromEntries(
      [...systems.unbatched, ...systems.batched].map((system) => [system.id, system.label]),
    ),
    systems: { unbatched: systems.unbatched.map((s) => s.id), batched: systems.batched.map((s) => s.id) },
    cells,
    statements,
    claimLatency: { small, large },
    submitToClaim: submit,
    reclaim,
    runtime,
    workerLatency: workerLatencies,
  };
  // The numbers, also in the temp directory: a long run survives a failure to render them.
  writeFileSync(path.join(os.tmpdir(), "leasehold-bench-report.json"), JSON.stringify(report));
  const markdown = renderReport(report);
  mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  writeFileSync(out, markdown);
  console.log(markdown);
  log(`wrote ${out}`);
} finally {
  await env.close();
}
