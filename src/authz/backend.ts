import type { Config } from "../config/bindings.ts";
import type { Database } from "../db/client.ts";
import { MisconfiguredError } from "../errors/domain-error.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import { type Authorizer, createPostgresAuthorizer } from "./authorizer.ts";
import { createSpiceDbAuthorizer } from "./spicedb/authorizer.ts";
import { SpiceDbClient } from "./spicedb/client.ts";

/** The backend the `AUTHZ_BACKEND` binding names (DESIGN §6). */
export function createAuthorizer(
  config: Config,
  deps: { db: () => Database; logger: Logger; metrics: Metrics },
): Authorizer {
  if (config.authzBackend === "postgres") return createPostgresAuthorizer();
  // The bindings schema already requires both for spicedb; never fall back to another graph.
  if (!config.spicedb) throw new MisconfiguredError(["SPICEDB_URL", "SPICEDB_TOKEN"]);
  const client = new SpiceDbClient({ ...config.spicedb, metrics: deps.metrics });
  return createSpiceDbAuthorizer({ client, db: deps.db, logger: deps.logger, metrics: deps.metrics });
}
