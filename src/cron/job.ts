import type { Authorizer } from "../authz/authorizer.ts";
import type { Config } from "../config/bindings.ts";
import type { Database } from "../db/client.ts";
import type { Logger } from "../observability/logger.ts";
import type { Budget } from "./budget.ts";

export interface CronDeps {
  db: Database;
  config: Config;
  logger: Logger;
  authorizer: Authorizer;
  /** This job's share of the tick: it stops early when spent (DESIGN §8). */
  budget: Budget;
}

/**
 * One bounded pass of a periodic job. Must be idempotent and safe when two ticks overlap;
 * returns what it did as counts, which the tick logs.
 */
export interface CronJob {
  name: string;
  runOnce(deps: CronDeps, now: Date): Promise<Record<string, number>>;
}
