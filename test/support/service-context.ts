import { Access } from "../../src/authz/access.ts";
import { createPostgresAuthorizer } from "../../src/authz/authorizer.ts";
import type { Config } from "../../src/config/bindings.ts";
import type { Database } from "../../src/db/client.ts";
import type { ServiceContext } from "../../src/lib/service-context.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import type { TestPrincipal } from "./factories.ts";

/** The context a request would build, for calling services directly. */
export function serviceContextFor(db: Database, principal: TestPrincipal, config: Config): ServiceContext {
  const authorizer = createPostgresAuthorizer();
  const logger = createLogger(() => {});
  const full = { ...principal };
  return {
    db,
    principal: full,
    now: new Date(),
    config,
    authorizer,
    access: new Access(full, {
      config,
      authorizer,
      metrics: createMetrics(logger, undefined),
      logger,
      db: () => db,
    }),
  };
}
