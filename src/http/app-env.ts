import type { Authorizer } from "../authz/authorizer.ts";
import type { Config } from "../config/bindings.ts";
import type { Database, DatabaseHandle, DatabaseSettings } from "../db/client.ts";
import type { OperatorContext, ServiceContext } from "../lib/service-context.ts";
import type { Logger, LogSink } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";

/** Built once per request by the dependencies middleware. */
export interface RequestDeps {
  config: Config;
  logger: Logger;
  now: Date;
  metrics: Metrics;
  authorizer: Authorizer;
  /** Opens the request's Pool on first use; closed after the response. */
  readonly db: Database;
  /** Work to finish after the response and before the Pool closes (e.g. shadow checks). */
  afterResponse(work: () => Promise<void>): void;
}

export type AppEnv = {
  Bindings: Record<string, unknown>;
  Variables: { requestId: string; deps: RequestDeps; service: ServiceContext };
};

/** What tests may replace when building the app; production uses the defaults. */
export interface AppOverrides {
  now?: () => Date;
  logSink?: LogSink;
  openDatabase?: (settings: DatabaseSettings, onPoolError: (error: unknown) => void) => DatabaseHandle;
  /** Replaces the authorization backend (fault injection in tests). */
  authorizer?: (config: Config) => Authorizer;
}

/** The context operator verbs (admin routes) run with. */
export function operatorContext(deps: RequestDeps): OperatorContext {
  return { db: deps.db, now: deps.now, authorizer: deps.authorizer };
}
