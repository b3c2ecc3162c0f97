// The claim+complete loop through a real `wrangler dev` (workerd, the bundled Worker, over the
// local bridge), on each database transport, beside the same loop in-process on a shared Neon
// Pool: the difference is what the Worker runtime and the per-request database path cost.
import pg from "pg";
import type { BenchEnvironment } from "../environment.ts";
import { type LeaseholdApp, openLeaseholdApp, provisionWorker } from "../leasehold-app.ts";
import { drainLeasehold, enqueueLeasehold, httpVerbs } from "../systems/leasehold.ts";
import { startWorkerServer } from "./worker-server.ts";

export interface RuntimeResult {
  path: string;
  jobs: number;
  consumers: number;
  batched: boolean;
  jobsPerSecond: number;
}

async function countCompleted(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (
      await client.query<{ n: number }>("SELECT count(*)::int AS n FROM tasks WHERE state = 'completed'")
    ).rows[0]?.n as number;
  } finally {
    await client.end();
  }
}

async function loop(
  call: LeaseholdApp["call"],
  url: string,
  jobs: number,
  consumers: number,
  batched: boolean,
) {
  const worker = await provisionWorker(call);
  const verbs = httpVerbs(call, worker);
  await enqueueLeasehold(verbs, jobs);
  const start = performance.now();
  await drainLeasehold(verbs, consumers, batched);
  const done = await countCompleted(url);
  const seconds = (performance.now() - start) / 1000;
  if (done !== jobs) throw new Error(`runtime loop: ${done} of ${jobs} completed`);
  return jobs / seconds;
}

export async function compareRuntimes(
  env: BenchEnvironment,
  template: string,
  jobs: number,
  consumers: number,
): Promise<RuntimeResult[]> {
  const results: RuntimeResult[] = [];
  for (const batched of [false, true]) {
    const inProcessDb = await env.cloneDatabase(template);
    const app = await openLeaseholdApp({
      url: inProcessDb.url,
      driver: "neon",
      poolSize: consumers + 2,
      proxyAddress: env.proxyAddress,
    });
    try {
      const rate = await loop(app.call, inProcessDb.url, jobs, consumers, batched);
      results.push({
        path: "in-process app.fetch, shared Neon Pool",
        jobs,
        consumers,
        batched,
        jobsPerSecond: rate,
      });
    } finally {
      await app.close();
      await inProcessDb.drop();
    }

    for (const transport of ["websocket", "http"] as const) {
      const database = await env.cloneDatabase(template);
      const server = await startWorkerServer(database.url, env.proxyAddress, transport);
      try {
        const rate = await loop(server.call, database.url, jobs, consumers, batched);
        results.push({
          path: `wrangler dev (workerd), statements over ${transport === "http" ? "Neon HTTP" : "a WebSocket Pool per request"}`,
          jobs,
          consumers,
          batched,
          jobsPerSecond: rate,
        });
      } finally {
        await server.close();
        await database.drop();
      }
    }
  }
  return results;
}
