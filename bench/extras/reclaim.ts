// The cron's reclaim job on `count` expired leases: wall time and statements, and a check that
// every lease came back.
import { sql } from "drizzle-orm";
import { createPostgresAuthorizer } from "../../src/authz/authorizer.ts";
import { configFor } from "../../src/config/bindings.ts";
import { unlimitedBudget } from "../../src/cron/budget.ts";
import { cronJobs } from "../../src/cron/jobs.ts";
import { createLogger } from "../../src/observability/logger.ts";
import type { BenchEnvironment } from "../environment.ts";
import { withProvisionedApp } from "../leasehold-app.ts";
import { enqueueLeasehold, serviceContext, serviceVerbs } from "../systems/leasehold.ts";

export interface ReclaimResult {
  leases: number;
  seconds: number;
  statements: number;
  reclaimed: number;
}

export async function reclaimExpired(
  env: BenchEnvironment,
  template: string,
  count: number,
): Promise<ReclaimResult> {
  return withProvisionedApp(env, template, 2, async (app, worker) => {
    const verbs = serviceVerbs(await serviceContext(app, worker), worker);
    await enqueueLeasehold(verbs, count);
    let leased = 0;
    for (let got = -1; got !== 0; leased += got) got = (await verbs.claim("doomed", 100)).length;
    if (leased !== count) throw new Error(`reclaim: leased ${leased} of ${count}`);
    // Workers that stopped heartbeating a while ago: the setup moves their expiry into the past.
    await app.db.execute(
      sql`UPDATE tasks SET lease_expires_at = now() - interval '1 minute' WHERE state = 'working'`,
    );
    await app.db.execute(sql`VACUUM ANALYZE tasks`);
    const reclaim = cronJobs.find((job) => job.name === "reclaim");
    if (!reclaim) throw new Error("reclaim: no such cron job");
    const deps = {
      db: app.db,
      config: configFor(app.bindings),
      logger: createLogger(() => {}),
      authorizer: createPostgresAuthorizer(),
      budget: unlimitedBudget,
    };
    app.statements.count = 0;
    const start = performance.now();
    const counts = await reclaim.runOnce(deps, new Date());
    const seconds = (performance.now() - start) / 1000;
    const statements = app.statements.count;
    const left = await app.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM tasks WHERE state = 'working'`,
    );
    if (left.rows[0]?.n !== 0) throw new Error(`reclaim: ${left.rows[0]?.n} leases were left`);
    return { leases: count, seconds, statements, reclaimed: Number(counts.reclaimed) };
  });
}
