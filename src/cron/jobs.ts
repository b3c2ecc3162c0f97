import { reclaimExpiredLeases } from "../leases/reclaim.ts";
import { fireDueSchedules } from "../schedules/fire-due.ts";
import { purgeFinishedTasks } from "../tasks/retention.ts";
import type { CronJob } from "./job.ts";

/** Run in this order on every tick (DESIGN §8). */
export const cronJobs: CronJob[] = [
  { name: "reclaim", runOnce: ({ db }) => reclaimExpiredLeases(db) },
  { name: "schedules", runOnce: (deps, now) => fireDueSchedules(deps, now) },
  {
    name: "authz_outbox",
    runOnce: async ({ db, authorizer }, now) => ({
      ...(await authorizer.drainOutbox(db)),
      ...(await authorizer.reconcile(db, now)),
    }),
  },
  {
    name: "retention",
    runOnce: ({ db, authorizer, config }) => purgeFinishedTasks({ db, authorizer }, config.retentionDays),
  },
];
