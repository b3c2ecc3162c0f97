import { runCell } from "./cell.ts";
import { startBenchEnvironment } from "./environment.ts";
import { graphileWorkerSystem } from "./systems/graphile-worker.ts";
import { leaseholdSystem } from "./systems/leasehold.ts";
import { pgBossSystem } from "./systems/pg-boss.ts";

const env = await startBenchEnvironment();
const [which = "", m = "1000", n = "4"] = process.argv.slice(2);
const all = [
  leaseholdSystem({ layer: "http", driver: "pg", batched: false, proxyAddress: env.proxyAddress }),
  leaseholdSystem({ layer: "http", driver: "neon", batched: false, proxyAddress: env.proxyAddress }),
  leaseholdSystem({ layer: "sql", driver: "pg", batched: false, proxyAddress: env.proxyAddress }),
  leaseholdSystem({ layer: "http", driver: "pg", batched: true, proxyAddress: env.proxyAddress }),
  leaseholdSystem({ layer: "sql", driver: "pg", batched: true, proxyAddress: env.proxyAddress }),
  pgBossSystem(false),
  pgBossSystem(true),
  graphileWorkerSystem(false),
  graphileWorkerSystem(true),
];
try {
  for (const system of all.filter((s) => which.split(",").includes(s.id))) {
    const template = await env.createTemplate(system.id.replaceAll("-", "_"), system.buildTemplate);
    for (let i = 0; i < 2; i++)
      console.log(JSON.stringify(await runCell(env, system, template, Number(m), Number(n))));
  }
} finally {
  await env.close();
}
