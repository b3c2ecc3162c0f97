// `npm run bench:worker [-- --jobs M] [-- --consumers N] [-- --samples S]`: only the Worker cells
// of `npm run bench` — the claim+complete loop through `wrangler dev` on each database transport
// beside in-process, and the sequential latency table — for iterating on the request path.
import { parseArgs } from "node:util";
import { startBenchEnvironment } from "./environment.ts";
import { renderWorkerLatency, workerLatency } from "./extras/worker-latency.ts";
import { compareRuntimes } from "./extras/wrangler-dev.ts";
import { migrateLeasehold } from "./systems/leasehold.ts";

const { values: args } = parseArgs({
  options: {
    jobs: { type: "string", default: "1000" },
    consumers: { type: "string", default: "16" },
    samples: { type: "string", default: "100" },
  },
});
const consumers = Number(args.consumers);
const env = await startBenchEnvironment();
try {
  const template = await env.createTemplate("leasehold", migrateLeasehold);
  const runtime = await compareRuntimes(env, template, Number(args.jobs), consumers);
  const latency = [];
  for (const transport of ["websocket", "http"] as const) {
    latency.push(
      await workerLatency(env, template, transport, {
        samples: Number(args.samples),
        concurrency: consumers,
      }),
    );
  }
  console.log(
    [
      "| path | mode | M | N | jobs/s |",
      "|---|---|---:|---:|---:|",
      ...runtime.map(
        (row) =>
          `| ${row.path} | ${row.batched ? "batched" : "unbatched"} | ${row.jobs} | ${row.consumers} | ${Math.round(row.jobsPerSecond)} |`,
      ),
      "",
      ...renderWorkerLatency(latency, runtime),
    ].join("\n"),
  );
} finally {
  await env.close();
}
