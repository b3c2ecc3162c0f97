import type { CronJob } from "./job.ts";

/** Run in this order on every tick (DESIGN §8). Jobs join as their features land. */
export const cronJobs: CronJob[] = [];
