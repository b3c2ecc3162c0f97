import type { Principal } from "../auth/principal.ts";
import type { Access } from "../authz/access.ts";
import type { Authorizer } from "../authz/authorizer.ts";
import type { Config } from "../config/bindings.ts";
import type { Database } from "../db/client.ts";

/** What every domain verb acting for a principal receives. */
export interface ServiceContext {
  db: Database;
  principal: Principal;
  now: Date;
  config: Config;
  access: Access;
  authorizer: Authorizer;
}

/** What operator verbs (admin token, cron) receive: no principal, no account scope of their own. */
export interface OperatorContext {
  db: Database;
  now: Date;
  authorizer: Authorizer;
}
