import { purgeExpiredIdempotencyKeys } from "../idempotency/purge.ts";
import { reclaimExpiredLeases } from "../leases/reclaim.ts";
import { fireDueSchedules } from "../schedules/fire-due.ts";
import { purgeFinishedTasks } from "../tasks/retention.ts";
import type { CronJob } from "./job.ts";

/** Run in this order on every tick (DESIGN §8). */
export const cronJobs: CronJob[] = [
  { name: "reclaim", runOnce: ({ db }) => reclaimExpiredLeases(db) },
  {
    name: "schedules",
    // Registering spawned runs in SpiceDB spends from the job's budget too.
    runOnce: (deps, now) =>
      fireDueSchedules(
        { ...deps, authorizer: deps.authorizer.withBudget?.(deps.budget) ?? deps.authorizer },
        now,
      ),
  },
  {
    name: "authz_outbox",
    runOnce: async ({ db, authorizer, budget }, now) => ({
      ...(await authorizer.drainOutbox(db, budget)),
      ...(await authorizer.reconcile(db, now, budget)),
    }),
  },
  {
    name: "retention",
    runOnce: ({ db, authorizer, config, budget }) =>
      purgeFinishedTasks({ db, authorizer, budget }, config.retentionDays),
  },
  {
    name: "idempotency",
    runOnce: ({ db, config, budget }) =>
      purgeExpiredIdempotencyKeys({ db, budget }, config.idempotencyTtlHours),
  },
];
