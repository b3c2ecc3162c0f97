import { type SQL, sql } from "drizzle-orm";
import { type Caller, principalOf } from "../auth/caller.ts";
import type { Principal } from "../auth/principal.ts";
import type { Config } from "../config/bindings.ts";
import type { Database } from "../db/client.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Authorizer } from "./authorizer.ts";
import { type ObjectType, rolloutFor } from "./model.ts";
import type { ListScope } from "./sql-lookup.ts";

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
    private readonly caller: Caller,
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

  /** The principal once authenticated; the verbs that authenticate in their statement read it after. */
  private get principal(): Principal {
    return principalOf(this.caller);
  }

  /**
   * A WHERE fragment: TRUE when the principal may `permission` the object `id` under the flag.
   * Pass `only` when the statement can only touch those ids (a single-resource request). Before
   * the principal is known, the predicate reads the statement's `caller` CTE.
   */
  async filter(type: ObjectType, permission: string, id: SQL, only?: readonly string[]): Promise<SQL> {
    if (rolloutFor(this.deps.config, type) !== "enforce") return sql`TRUE`;
    const { authorizer } = this.deps;
    const principal = this.caller.principal;
    // One id: the predicate is over that id, not the row's column. Correlated to the row, the edge
    // lookups may be planned as a hash of every edge the principal holds (each task it created),
    // built by every statement; over the id they are index probes whatever the statistics say.
    const over = only?.length === 1 ? sql`${only[0]}::text` : id;
    const predicate =
      !principal && authorizer.statementPredicate
        ? authorizer.statementPredicate(this.caller.subject, type, permission, over)
        : await authorizer.predicate(this.principal, type, permission, over, only);
    // Over several rows an in-database chain of EXISTS is probed per row, as lists do (below).
    return only && only.length > 1 && authorizer.lookup ? sql`(SELECT ${predicate})` : predicate;
  }

  /**
   * How a list decides what the principal sees (DESIGN §14). An account admin may read the whole
   * account, so a scan of it with the predicate is the short way; anyone else sees a part of it,
   * so the list is driven from what they may read (the backend's reverse lookup). Both shapes
   * give the same rows for anyone: the role only picks the faster one.
   */
  async listScope(type: ObjectType, permission: string, id: SQL): Promise<ListScope> {
    if (rolloutFor(this.deps.config, type) !== "enforce") return { predicate: sql`TRUE` };
    const { authorizer } = this.deps;
    if (this.principal.role !== "admin" && authorizer.lookup) {
      return { lookup: authorizer.lookup(this.principal, type, permission) };
    }
    const predicate = await authorizer.predicate(this.principal, type, permission, id);
    // The postgres predicate is a chain of EXISTS over the edges. Wrapped as a subquery per row
    // it is planned for one row and probes that row's edges; left bare in a scan's WHERE,
    // PostgreSQL may first hash every edge the admin has (a million owned tasks, a million edges).
    // An id list from a backend outside the database stays bare, so the list can be driven by it.
    return { predicate: authorizer.lookup ? sql`(SELECT ${predicate})` : predicate };
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
