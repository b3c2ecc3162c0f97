import { createAuthorizer } from "../authz/backend.ts";
import { type Config, configFor } from "../config/bindings.ts";
import { type DatabaseHandle, openDatabase } from "../db/client.ts";
import { DomainError, MisconfiguredError } from "../errors/domain-error.ts";
import type { AppOverrides } from "../http/app-env.ts";
import { createLogger, describeError } from "../observability/logger.ts";
import { createMetrics } from "../observability/metrics.ts";
import { type BudgetLimits, createBudget, defaultJobBudget } from "./budget.ts";
import type { CronJob } from "./job.ts";
import { cronJobs } from "./jobs.ts";

export type TickCounts = Record<string, Record<string, number>>;

export interface TickOptions extends Pick<AppOverrides, "logSink" | "openDatabase" | "authorizer"> {
  jobs?: CronJob[];
  /** Each job's budget (tests shrink it). */
  budget?: BudgetLimits;
}

/**
 * A tick in which at least one job failed (DESIGN §8). The message names the jobs only; what went
 * wrong is in their `cron.job_failed` log lines.
 */
export class TickFailedError extends DomainError {
  readonly counts: TickCounts;
  readonly failedJobs: string[];
  constructor(failedJobs: string[], counts: TickCounts) {
    super("internal", `The cron tick failed: ${failedJobs.length} job(s) failed (${failedJobs.join(", ")}).`);
    this.failedJobs = failedJobs;
    this.counts = counts;
  }
}

/**
 * Runs every job once, one after another, then logs one structured line with each job's counts
 * and writes the tick's counters. A failing job is logged and counted and the others still run;
 * then the returned promise rejects (TickFailedError), so the platform records the tick as
 * failed. Invalid bindings reject at once (MisconfiguredError), before any job runs.
 */
export async function runTick(env: object, now: Date, options: TickOptions = {}): Promise<TickCounts> {
  const logger = createLogger(options.logSink).child({ tick: now.toISOString() });
  let config: Config;
  try {
    config = configFor(env);
  } catch (error) {
    if (error instanceof MisconfiguredError)
      logger.log("error", "config.invalid", { bindings: error.bindings });
    throw error;
  }
  const metrics = createMetrics(logger, config.metrics);
  const started = Date.now();
  const counts: TickCounts = {};
  const failed: string[] = [];
  let handle: DatabaseHandle | undefined;
  try {
    for (const job of options.jobs ?? cronJobs) {
      try {
        handle ??= (options.openDatabase ?? openDatabase)(config, (error) =>
          logger.log("warn", "db.pool_error", describeError(error)),
        );
        const db = handle.db;
        const authorizer =
          options.authorizer?.(config) ?? createAuthorizer(config, { db: () => db, logger, metrics });
        const budget = createBudget(options.budget ?? defaultJobBudget);
        counts[job.name] = await job.runOnce({ db, config, logger, authorizer, budget }, now);
      } catch (error) {
        counts[job.name] = { failed: 1 };
        failed.push(job.name);
        logger.log("error", "cron.job_failed", { job: job.name, ...describeError(error) });
      }
    }
  } finally {
    await handle?.close().catch((error) => logger.log("warn", "db.close_failed", describeError(error)));
    logger.log(failed.length > 0 ? "error" : "info", "cron.tick", {
      duration_ms: Date.now() - started,
      jobs: counts,
    });
    metrics.flush();
  }
  if (failed.length > 0) throw new TickFailedError(failed, counts);
  return counts;
}
