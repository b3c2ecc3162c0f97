import { knownCaller } from "../../src/auth/caller.ts";
import { callerContext } from "../../src/auth/context.ts";
import { createPostgresAuthorizer } from "../../src/authz/authorizer.ts";
import type { Config } from "../../src/config/bindings.ts";
import type { Database } from "../../src/db/client.ts";
import type { ServiceContext } from "../../src/lib/service-context.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import type { TestPrincipal } from "./factories.ts";

/** The caller a request authenticated as `principal` has. */
export const callerFor = (principal: TestPrincipal) => knownCaller(principal);

/** The context a request would build, for calling services directly. */
export function serviceContextFor(db: Database, principal: TestPrincipal, config: Config): ServiceContext {
  const logger = createLogger(() => {});
  const full = { ...principal };
  return callerContext(
    {
      db: () => db,
      now: new Date(),
      config,
      authorizer: createPostgresAuthorizer(),
      metrics: createMetrics(logger, undefined),
      logger,
    },
    callerFor(full),
  );
}
