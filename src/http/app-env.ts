import type { Principal } from "../auth/principal.ts";
import type { Config } from "../config/bindings.ts";
import type { Database, DatabaseHandle, DatabaseSettings } from "../db/client.ts";
import type { Logger, LogSink } from "../observability/logger.ts";

/** Built once per request by the dependencies middleware. */
export interface RequestDeps {
  config: Config;
  logger: Logger;
  now: Date;
  /** Opens the request's Pool on first use; closed after the response. */
  readonly db: Database;
}

export type AppEnv = {
  Bindings: Record<string, unknown>;
  Variables: { requestId: string; deps: RequestDeps; principal: Principal };
};

/** What tests may replace when building the app; production uses the defaults. */
export interface AppOverrides {
  now?: () => Date;
  logSink?: LogSink;
  openDatabase?: (settings: DatabaseSettings, onPoolError: (error: unknown) => void) => DatabaseHandle;
}
