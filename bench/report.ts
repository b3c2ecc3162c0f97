// Turns a run's measurements into BENCHMARKS.md: every number below comes from the run.
import type { CellResult } from "./cell.ts";
import type { Percentiles } from "./extras/latency.ts";
import type { ReclaimResult } from "./extras/reclaim.ts";
import type { StatementCounts } from "./extras/statements.ts";
import { renderWorkerLatency, type WorkerLatency, workerShare } from "./extras/worker-latency.ts";
import type { RuntimeResult } from "./extras/wrangler-dev.ts";
import type { Mode, RunPlan } from "./plan.ts";

export interface RunReport {
  plan: RunPlan;
  command: string;
  startedAt: Date;
  minutes: number;
  loadAtStart: number;
  machine: Record<string, string>;
  labels: Record<string, string>;
  systems: Record<Mode, string[]>;
  cells: (CellResult & { mode: Mode })[];
  statements: StatementCounts[];
  claimLatency: { small: Percentiles; large: Percentiles };
  submitToClaim: Percentiles;
  reclaim: ReclaimResult;
  runtime: RuntimeResult[];
  workerLatency: WorkerLatency[];
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const rate = (value: number) => Math.round(value).toLocaleString("en-US");
const ms = (value: number) => value.toFixed(1);
const ratio = (value: number) => `${value.toFixed(2)}×`;
const verdict = (ok: boolean | undefined) => (ok === undefined ? "not measured" : ok ? "met" : "**missed**");

function cellKeys(report: RunReport) {
  const keys = new Map<string, { mode: Mode; jobs: number; consumers: number }>();
  for (const cell of report.plan.cells) keys.set(`${cell.mode}/${cell.jobs}/${cell.consumers}`, cell);
  return [...keys.values()];
}

function results(report: RunReport, mode: Mode, jobs: number, consumers: number, system: string) {
  return report.cells.filter(
    (cell) =>
      cell.mode === mode && cell.jobs === jobs && cell.consumers === consumers && cell.system === system,
  );
}

export function medianRate(report: RunReport, mode: Mode, jobs: number, consumers: number, system: string) {
  const runs = results(report, mode, jobs, consumers, system);
  return runs.length ? median(runs.map((run) => run.jobsPerSecond)) : undefined;
}

function throughputTables(report: RunReport): string[] {
  const lines: string[] = [];
  for (const mode of ["unbatched", "batched"] as const) {
    lines.push(
      `### ${mode === "unbatched" ? "Unbatched (one job per claim)" : "Batched (up to 100 per claim)"}`,
      "",
    );
    const systems = report.systems[mode];
    lines.push(`| M | N | ${systems.map((id) => report.labels[id]).join(" | ")} |`);
    lines.push(`|---:|---:|${systems.map(() => "---:").join("|")}|`);
    for (const cell of cellKeys(report).filter((key) => key.mode === mode)) {
      const row = systems.map((system) => {
        const runs = results(report, mode, cell.jobs, cell.consumers, system).map((run) => run.jobsPerSecond);
        if (runs.length === 0) return "—";
        return `**${rate(median(runs))}** (${rate(Math.min(...runs))}–${rate(Math.max(...runs))})`;
      });
      lines.push(`| ${rate(cell.jobs)} | ${cell.consumers} | ${row.join(" | ")} |`);
    }
    lines.push(
      "",
      "WAL written per job during the drain (records · bytes, median over all cells of this mode):",
      "",
      systems
        .map((system) => {
          const runs = report.cells.filter((cell) => cell.mode === mode && cell.system === system);
          if (runs.length === 0) return `${report.labels[system]}: —`;
          const records = median(runs.map((run) => run.walRecordsPerJob));
          const bytes = median(runs.map((run) => run.walBytesPerJob));
          return `${report.labels[system]}: ${records.toFixed(1)} · ${Math.round(bytes)} B`;
        })
        .join(" · "),
      "",
      "Enqueue rate with each system's bulk API (jobs/s, median over all cells of this mode):",
      "",
    );
    lines.push(
      systems
        .map((system) => {
          const runs = report.cells.filter((cell) => cell.mode === mode && cell.system === system);
          return `${report.labels[system]}: ${runs.length ? rate(median(runs.map((run) => run.enqueuePerSecond))) : "—"}`;
        })
        .join(" · "),
      "",
    );
  }
  return lines;
}

function ratioTable(report: RunReport): string[] {
  const lines = [
    "| mode | M | N | leasehold HTTP ÷ graphile-worker | ÷ pg-boss | ÷ leasehold SQL floor |",
    "|---|---:|---:|---:|---:|---:|",
  ];
  for (const cell of cellKeys(report)) {
    const [http, floor, boss, graphile] = report.systems[cell.mode].map((system) =>
      medianRate(report, cell.mode, cell.jobs, cell.consumers, system),
    );
    const of = (other: number | undefined) => (http && other ? ratio(http / other) : "—");
    lines.push(
      `| ${cell.mode} | ${rate(cell.jobs)} | ${cell.consumers} | ${of(graphile)} | ${of(boss)} | ${of(floor)} |`,
    );
  }
  return lines;
}

function targets(report: RunReport): string[] {
  const [http, floor, boss, graphile] = report.systems.unbatched.map((system) =>
    medianRate(report, "unbatched", 20_000, 16, system),
  );
  const [httpBatched, , , graphileBatched] = report.systems.batched.map((system) =>
    medianRate(report, "batched", 100_000, 16, system),
  );
  const enqueue = (system: string | undefined) => {
    const runs = report.cells.filter((cell) => cell.mode === "batched" && cell.system === system);
    return runs.length ? median(runs.map((run) => run.enqueuePerSecond)) : undefined;
  };
  const [bulkHttp, bulkGraphile] = [enqueue(report.systems.batched[0]), enqueue(report.systems.batched[3])];
  const worker = report.workerLatency.find((row) => row.transport === "http");
  const { allowed, rate: workerRate } = worker ? workerShare(worker, report.runtime) : {};
  const slowest = worker
    ? Math.max(
        ...(["claim", "heartbeat", "complete", "get"] as const).map(
          (name) => worker.requests[name].p50 / worker.requests.health.p50,
        ),
      )
    : undefined;
  const latencyRatio = report.claimLatency.large.p50 / report.claimLatency.small.p50;
  const fullLatency = report.plan.claimLatency.large === 100_000;
  const rows: [string, string, boolean | undefined][] = [
    [
      "unbatched M=20k N=16: HTTP ≥ 1.0× graphile-worker",
      http && graphile ? ratio(http / graphile) : "—",
      http && graphile ? http >= graphile : undefined,
    ],
    [
      "unbatched M=20k N=16: HTTP ≥ 5× pg-boss",
      http && boss ? ratio(http / boss) : "—",
      http && boss ? http >= 5 * boss : undefined,
    ],
    [
      "unbatched M=20k N=16: HTTP ≥ 70% of its SQL floor",
      http && floor ? `${Math.round((100 * http) / floor)}%` : "—",
      http && floor ? http >= 0.7 * floor : undefined,
    ],
    [
      "unbatched M=20k N=16: SQL floor ≥ 1.0× graphile-worker",
      floor && graphile ? ratio(floor / graphile) : "—",
      floor && graphile ? floor >= graphile : undefined,
    ],
    [
      "through `wrangler dev`, unbatched N=16: ≥ 70% of what `/health` allows",
      workerRate && allowed ? `${Math.round((100 * workerRate) / allowed)}%` : "—",
      workerRate && allowed ? workerRate >= 0.7 * allowed : undefined,
    ],
    [
      "through `wrangler dev`, sequential p50 of claim, heartbeat, complete, get ≤ 2× `/health` (slowest)",
      slowest ? ratio(slowest) : "—",
      slowest ? slowest <= 2 : undefined,
    ],
    [
      "bulk enqueue (1,000 per request), HTTP ≥ 50% of graphile-worker's bulk add",
      bulkHttp && bulkGraphile
        ? `${rate(bulkHttp)} jobs/s, ${Math.round((100 * bulkHttp) / bulkGraphile)}%`
        : "—",
      bulkHttp && bulkGraphile ? bulkHttp >= 0.5 * bulkGraphile : undefined,
    ],
    [
      "batched M=100k N=16: ≥ 8,000 jobs/s, or ≥ 50% of graphile-worker batched",
      httpBatched && graphileBatched
        ? `${rate(httpBatched)} jobs/s, ${Math.round((100 * httpBatched) / graphileBatched)}%`
        : "—",
      httpBatched && graphileBatched
        ? httpBatched >= 8000 || httpBatched >= 0.5 * graphileBatched
        : undefined,
    ],
    [
      `claim p50 at ${rate(report.plan.claimLatency.large)} backlog ≤ 1.5× at ${rate(report.plan.claimLatency.small)}`,
      ratio(latencyRatio),
      fullLatency ? latencyRatio <= 1.5 : undefined,
    ],
    [
      `reclaim of ${rate(report.reclaim.leases)} expired leases ≤ 5 s and ≤ 20 statements`,
      `${report.reclaim.seconds.toFixed(2)} s, ${report.reclaim.statements} statements`,
      report.reclaim.leases === 10_000
        ? report.reclaim.seconds <= 5 && report.reclaim.statements <= 20
        : undefined,
    ],
  ];
  return [
    "| target | measured | |",
    "|---|---:|---|",
    ...rows.map(([name, value, ok]) => `| ${name} | ${value} | ${verdict(ok)} |`),
  ];
}

export function renderReport(report: RunReport): string {
  const loads = report.cells.map((cell) => cell.loadBefore);
  return [
    "# Benchmarks",
    "",
    `Generated by \`${report.command}\` on ${report.startedAt.toISOString()} in ${report.minutes.toFixed(1)} minutes. ` +
      "Nothing here is edited by hand; rerun the command to reproduce. How the run works and what to make of it: " +
      "[docs/benchmarks.md](docs/benchmarks.md).",
    "",
    "## Machine",
    "",
    ...Object.entries(report.machine).map(([name, value]) => `- ${name}: ${value}`),
    `- load average at the start: ${report.loadAtStart.toFixed(2)}; before each drain (1 min, so it includes the run's own previous cells): median ${median(loads).toFixed(2)}, max ${Math.max(...loads).toFixed(2)}`,
    "",
    "## Targets",
    "",
    ...targets(report),
    "",
    "## Durable throughput",
    "",
    "Jobs per second = M / drain time, from the first claim until the database confirms all M done; " +
      "median of the repetitions in bold, min–max in brackets. Systems ran interleaved within each cell, on a " +
      "fresh database per system and cell.",
    "",
    ...throughputTables(report),
    "### Ratios (medians)",
    "",
    ...ratioTable(report),
    "",
    "### Cells not run",
    "",
    ...report.plan.omitted.map((reason) => `- ${reason}`),
    "",
    "## Statements per request",
    "",
    "| request | SQL statements |",
    "|---|---:|",
    ...report.statements.map((row) => `| ${row.request} | ${row.statements} |`),
    "",
    "Over HTTP too each is one statement: the API key is looked up inside the transition's statement (ADR 0023).",
    "",
    "## Latency",
    "",
    "| measurement | p50 ms | p95 ms | samples |",
    "|---|---:|---:|---:|",
    `| claim (HTTP handlers, max_tasks 1), backlog ${rate(report.plan.claimLatency.small)} | ${ms(report.claimLatency.small.p50)} | ${ms(report.claimLatency.small.p95)} | ${report.claimLatency.small.samples} |`,
    `| claim (HTTP handlers, max_tasks 1), backlog ${rate(report.plan.claimLatency.large)} | ${ms(report.claimLatency.large.p50)} | ${ms(report.claimLatency.large.p95)} | ${report.claimLatency.large.samples} |`,
    `| submit → claim, one worker polling every ${report.plan.submitToClaim.pollMs} ms when idle | ${ms(report.submitToClaim.p50)} | ${ms(report.submitToClaim.p95)} | ${report.submitToClaim.samples} |`,
    "",
    "## Reclaim cron",
    "",
    `${rate(report.reclaim.leases)} expired leases: ${report.reclaim.reclaimed} reclaimed in ${report.reclaim.seconds.toFixed(2)} s with ${report.reclaim.statements} statements (one tick of the \`reclaim\` job).`,
    "",
    "## The Worker runtime",
    "",
    "| path | mode | M | N | jobs/s |",
    "|---|---|---:|---:|---:|",
    ...report.runtime.map(
      (row) =>
        `| ${row.path} | ${row.batched ? "batched" : "unbatched"} | ${rate(row.jobs)} | ${row.consumers} | ${rate(row.jobsPerSecond)} |`,
    ),
    "",
    ...renderWorkerLatency(report.workerLatency, report.runtime),
  ].join("\n");
}
