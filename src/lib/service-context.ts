import type { Caller } from "../auth/caller.ts";
import type { Principal } from "../auth/principal.ts";
import type { Access } from "../authz/access.ts";
import type { Authorizer } from "../authz/authorizer.ts";
import type { Config } from "../config/bindings.ts";
import type { Database } from "../db/client.ts";

/** What every domain verb acting for a principal receives. */
export interface ServiceContext {
  db: Database;
  /**
   * Who is calling. A verb that authenticates in its own statement (auth/caller.ts) may read it
   * only after that statement; before, it throws.
   */
  readonly principal: Principal;
  /** The caller as SQL: the one way a hot verb's statement names tenant, actor and subject. */
  caller: Caller;
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
