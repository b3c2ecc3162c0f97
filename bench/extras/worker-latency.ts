// Through a real `wrangler dev`: what one client waits for each hot request, one at a time, and
// how many `GET /health` requests the local HTTP stack serves at a given concurrency — the floor
// every database path is measured against.
import type { BenchEnvironment } from "../environment.ts";
import { provisionWorker } from "../leasehold-app.ts";
import { type Percentiles, percentiles } from "./latency.ts";
import { startWorkerServer, type WorkerServer } from "./worker-server.ts";

export interface WorkerLatency {
  transport: "http" | "websocket";
  /** `GET /health` requests per second with `concurrency` clients. */
  health: { concurrency: number; requestsPerSecond: number };
  requests: Record<"health" | "create" | "get" | "claim" | "heartbeat" | "complete", Percentiles>;
}

async function healthRate(server: WorkerServer, concurrency: number, seconds: number): Promise<number> {
  let served = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const response = await fetch(`${server.base}/health`);
        await response.arrayBuffer();
        if (response.status === 200) served++;
      }
    }),
  );
  return served / seconds;
}

async function timed(samples: number[], run: () => Promise<unknown>) {
  const start = performance.now();
  await run();
  samples.push(performance.now() - start);
}

export async function workerLatency(
  env: BenchEnvironment,
  template: string,
  transport: "http" | "websocket",
  options: { samples: number; concurrency: number },
): Promise<WorkerLatency> {
  const database = await env.cloneDatabase(template);
  const server = await startWorkerServer(database.url, env.proxyAddress, transport);
  try {
    const worker = await provisionWorker(server.call);
    const call = server.call;
    const times = { health: [], create: [], get: [], claim: [], heartbeat: [], complete: [] } as Record<
      keyof WorkerLatency["requests"],
      number[]
    >;
    // Warm the isolate and the bridge's connections before measuring.
    for (let i = 0; i < 20; i++) await call("GET", "/health");
    for (let i = 0; i < options.samples; i++) {
      await timed(times.health, () => call("GET", "/health"));
      let id = "";
      await timed(times.create, async () => {
        id = (await call("POST", "/v1/tasks", { agent_id: worker.agentId, type: "bench" }, worker.token))
          .id as string;
      });
      await timed(times.get, () => call("GET", `/v1/tasks/${id}`, undefined, worker.token));
      let lease = { worker_id: "", epoch: 0 };
      await timed(times.claim, async () => {
        const claimed = await call<{ items: { task: { id: string }; lease: typeof lease }[] }>(
          "POST",
          "/v1/leases",
          { agent_id: worker.agentId, worker_id: "bench-1", max_tasks: 1, lease_seconds: 1 },
          worker.token,
        );
        const item = claimed.items[0];
        if (!item || item.task.id !== id) throw new Error("latency: the claim did not return the task");
        lease = { worker_id: item.lease.worker_id, epoch: item.lease.epoch };
      });
      // Heartbeats are accepted every lease/6 at most: wait that long (untimed) before one.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await timed(times.heartbeat, () =>
        call("POST", `/v1/tasks/${id}/heartbeat`, { ...lease, lease_seconds: 1 }, worker.token),
      );
      await timed(times.complete, () =>
        call("POST", `/v1/tasks/${id}/complete`, { ...lease, result: null }, worker.token),
      );
    }
    const requestsPerSecond = await healthRate(server, options.concurrency, 3);
    return {
      transport,
      health: { concurrency: options.concurrency, requestsPerSecond },
      requests: Object.fromEntries(
        Object.entries(times).map(([name, values]) => [name, percentiles(values)]),
      ) as WorkerLatency["requests"],
    };
  } finally {
    await server.close();
    await database.drop();
  }
}

const ms = (value: number) => value.toFixed(1);

type RuntimeRate = { path: string; batched: boolean; consumers: number; jobsPerSecond: number };

/** The unbatched jobs/s `/health` allows on a transport (claim and complete: 2 requests a job), and the rate measured on it. */
export function workerShare(row: WorkerLatency, runtime: RuntimeRate[]) {
  const allowed = row.health.requestsPerSecond / 2;
  const measured = runtime.find(
    (r) => !r.batched && r.path.includes(row.transport === "http" ? "Neon HTTP" : "WebSocket"),
  );
  return { allowed, rate: measured?.jobsPerSecond ?? Number.NaN };
}

/** The latency table, and each path's unbatched N-client rate against what `/health` allows. */
export function renderWorkerLatency(rows: WorkerLatency[], runtime: RuntimeRate[]): string[] {
  const names = ["health", "create", "get", "claim", "heartbeat", "complete"] as const;
  return [
    "### Sequential request latency through `wrangler dev`",
    "",
    `| transport | ${names.map((name) => `${name} p50 / p95 ms`).join(" | ")} |`,
    `|---|${names.map(() => "---:").join("|")}|`,
    ...rows.map(
      (row) =>
        `| ${row.transport} | ${names.map((name) => `${ms(row.requests[name].p50)} / ${ms(row.requests[name].p95)}`).join(" | ")} |`,
    ),
    "",
    "| transport | `/health` req/s (clients) | jobs/s allowed (÷ 2 requests per job) | unbatched jobs/s | share | claim p50 ÷ health p50 |",
    "|---|---:|---:|---:|---:|---:|",
    ...rows.map((row) => {
      const { allowed, rate } = workerShare(row, runtime);
      return `| ${row.transport} | ${Math.round(row.health.requestsPerSecond)} (${row.health.concurrency}) | ${Math.round(allowed)} | ${Math.round(rate)} | ${Math.round((100 * rate) / allowed)}% | ${(row.requests.claim.p50 / row.requests.health.p50).toFixed(1)}× |`;
    }),
    "",
  ];
}
