// The claim+complete loop through a real `wrangler dev` (workerd, the bundled Worker, a Neon Pool
// per request over the local bridge), beside the same loop in-process on a shared Neon Pool: the
// difference is what the Worker runtime and a connection per request cost.
import pg from "pg";
import { unstable_startWorker } from "wrangler";
import { randomHex } from "../../src/lib/crypto.ts";
import type { BenchEnvironment } from "../environment.ts";
import { type LeaseholdApp, openLeaseholdApp, provisionWorker } from "../leasehold-app.ts";
import { drainLeasehold, enqueueLeasehold, httpVerbs } from "../systems/leasehold.ts";

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

// No request log per call, and no fetch of Cloudflare's request metadata (there is no internet).
process.env.WRANGLER_LOG ??= "warn";
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";

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

    const database = await env.cloneDatabase(template);
    const adminToken = `adm_${randomHex(24)}`;
    const vars = { DATABASE_URL: database.url, DATABASE_WS_PROXY: env.proxyAddress, ADMIN_TOKEN: adminToken };
    const worker = await unstable_startWorker({
      config: "wrangler.toml",
      bindings: {
        ...Object.fromEntries(
          Object.entries(vars).map(([name, value]) => [name, { type: "plain_text" as const, value }]),
        ),
        // The loop is one key from one address: production's limits would throttle the drain,
        // which measures the Worker's path, not the limiter (docs/operations.md, rate limits).
        ...Object.fromEntries(
          [
            ["RATE_LIMIT_BY_ADDRESS", "4701"],
            ["RATE_LIMIT_BY_KEY", "4702"],
          ].map(([name, namespace]) => [
            name,
            { type: "ratelimit" as const, namespace_id: namespace, simple: { limit: 1_000_000, period: 60 } },
          ]),
        ),
      },
      dev: { server: { hostname: "127.0.0.1", port: 0 }, inspector: false, watch: false },
    });
    try {
      const base = (await worker.url).toString().replace(/\/$/, "");
      const call = async <T>(method: string, path: string, body?: unknown, token?: string): Promise<T> => {
        const response = await fetch(`${base}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token ?? adminToken}`,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await response.text();
        if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`);
        return JSON.parse(text) as T;
      };
      const rate = await loop(call, database.url, jobs, consumers, batched);
      results.push({
        path: "wrangler dev (workerd, Pool per request)",
        jobs,
        consumers,
        batched,
        jobsPerSecond: rate,
      });
    } finally {
      await worker.dispose();
      await database.drop();
    }
  }
  return results;
}
