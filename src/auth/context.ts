import { Access } from "../authz/access.ts";
import type { Authorizer } from "../authz/authorizer.ts";
import type { Config } from "../config/bindings.ts";
import type { Database } from "../db/client.ts";
import type { ServiceContext } from "../lib/service-context.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import { type Caller, principalOf } from "./caller.ts";

export interface ContextDeps {
  /** The request's database, opened on first use. */
  db: () => Database;
  now: Date;
  config: Config;
  authorizer: Authorizer;
  metrics: Metrics;
  logger: Logger;
}

/** The context a verb acting for `caller` runs with; the one place it is built. */
export function callerContext(deps: ContextDeps, caller: Caller): ServiceContext {
  const access = new Access(caller, deps);
  return {
    get db() {
      return deps.db();
    },
    get principal() {
      return principalOf(caller);
    },
    caller,
    now: deps.now,
    config: deps.config,
    access,
    authorizer: deps.authorizer,
  };
}
