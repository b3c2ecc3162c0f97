import { type SQL, sql } from "drizzle-orm";
import type { Principal } from "../auth/principal.ts";
import type { Config } from "../config/bindings.ts";
import type { Database } from "../db/client.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Authorizer } from "./authorizer.ts";
import { type ObjectType, rolloutFor } from "./model.ts";

interface Observation {
  type: ObjectType;
  permission: string;
  ids: string[];
}

/**
 * One request's authorization decisions under the rollout ladder (DESIGN §6). Every query is
 * account-scoped on its own; this adds the graph's say:
 * off / dual_write — nothing more (every principal of the account may act);
 * shadow — the same, and observed decisions are re-checked against the graph and disagreements
 *          counted as `authz.shadow_mismatch`;
 * enforce — the graph's predicate joins the statement's WHERE.
 */
export class Access {
  private readonly observations: Observation[] = [];

  constructor(
    readonly principal: Principal,
    private readonly deps: {
      config: Config;
      authorizer: Authorizer;
      metrics: Metrics;
      logger: Logger;
      db: () => Database;
    },
  ) {}

  /** Whether edges are written for new resources of this type (every step above `off`). */
  registers(type: ObjectType): boolean {
    return rolloutFor(this.deps.config, type) !== "off";
  }

  /**
   * A WHERE fragment: TRUE when the principal may `permission` the object `id` under the flag.
   * Pass `only` when the statement can only touch those ids (a single-resource request).
   */
  async filter(type: ObjectType, permission: string, id: SQL, only?: readonly string[]): Promise<SQL> {
    if (rolloutFor(this.deps.config, type) !== "enforce") return sql`TRUE`;
    return this.deps.authorizer.predicate(this.principal, type, permission, id, only);
  }

  /** Records decisions the account scope allowed, for the shadow comparison. */
  observe(type: ObjectType, permission: string, ids: string[]): void {
    if (ids.length > 0 && rolloutFor(this.deps.config, type) === "shadow") {
      this.observations.push({ type, permission, ids });
    }
  }

  /** Runs the shadow comparisons; called once after the response is built. */
  async flushShadow(): Promise<void> {
    for (const { type, permission, ids } of this.observations.splice(0)) {
      const predicate = await this.deps.authorizer.predicate(
        this.principal,
        type,
        permission,
        sql`r.id`,
        ids,
      );
      const values = sql.join(
        ids.map((id) => sql`(${id}::text)`),
        sql`, `,
      );
      const denied = await this.deps
        .db()
        .execute<{ id: string }>(sql`SELECT r.id FROM (VALUES ${values}) AS r(id) WHERE NOT ${predicate}`);
      if (denied.rows.length === 0) continue;
      this.deps.metrics.count(
        "authz.shadow_mismatch",
        { resource_type: type, permission },
        denied.rows.length,
      );
      this.deps.logger.log("warn", "authz.shadow_mismatch", {
        resource_type: type,
        permission,
        principal_type: this.principal.type,
        key_id: this.principal.keyId,
        resource_ids: denied.rows.map((row) => row.id),
      });
    }
  }
}
