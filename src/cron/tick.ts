import { createAuthorizer } from "../authz/backend.ts";
import { configFor } from "../config/bindings.ts";
import { type DatabaseHandle, openDatabase } from "../db/client.ts";
import { MisconfiguredError } from "../errors/domain-error.ts";
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
 * Runs every job once, one after another, then logs one structured line with each job's
 * counts. A failing job is logged and counted; the others still run.
 */
export async function runTick(env: object, now: Date, options: TickOptions = {}): Promise<TickCounts> {
  const logger = createLogger(options.logSink).child({ tick: now.toISOString() });
  let config: ReturnType<typeof configFor>;
  try {
    config = configFor(env);
  } catch (error) {
    if (!(error instanceof MisconfiguredError)) throw error;
    logger.log("error", "config.invalid", { bindings: error.bindings });
    return {};
  }
  const started = Date.now();
  const counts: TickCounts = {};
  let handle: DatabaseHandle | undefined;
  try {
    for (const job of options.jobs ?? cronJobs) {
      handle ??= (options.openDatabase ?? openDatabase)(config, (error) =>
        logger.log("warn", "db.pool_error", describeError(error)),
      );
      try {
        const db = handle.db;
        const authorizer =
          options.authorizer?.(config) ??
          createAuthorizer(config, { db: () => db, logger, metrics: createMetrics(logger, config.metrics) });
        const budget = createBudget(options.budget ?? defaultJobBudget);
        counts[job.name] = await job.runOnce({ db: handle.db, config, logger, authorizer, budget }, now);
      } catch (error) {
        counts[job.name] = { failed: 1 };
        logger.log("error", "cron.job_failed", { job: job.name, ...describeError(error) });
      }
    }
  } finally {
    await handle?.close().catch((error) => logger.log("warn", "db.close_failed", describeError(error)));
  }
  logger.log("info", "cron.tick", { duration_ms: Date.now() - started, jobs: counts });
  return counts;
}
