// The one access guard (DESIGN §6, §14). A verb declares what it needs (type, permission, ids);
// the guard turns that into the predicate its statement carries, explains a refusal the same way
// everywhere (missing, foreign and unreadable are one 404; readable but not permitted is 403),
// and records the decision for the shadow comparison when the verb succeeds. Verbs never call
// `ctx.access` themselves (test/node/access-guard.test.ts checks it).
import { type SQL, sql } from "drizzle-orm";
import type { ServiceContext } from "../lib/service-context.ts";
import type { ObjectType } from "./model.ts";
import { type AccessProbe, assertPermitted } from "./probe.ts";
import type { ListScope } from "./sql-lookup.ts";

export interface Need {
  type: ObjectType;
  permission: string;
  /** The ids the statement can touch; absent when it finds its row another way (by name). */
  ids?: readonly string[];
}

export interface Grant {
  /** TRUE where the principal holds the need: the statement's WHERE must carry it. */
  allowed: SQL;
  /** The read permission on the same ids, for a refusal's probe (the need itself when it is read). */
  readable(): Promise<SQL>;
  /** After a zero-row statement: 404 unless the probe found the row readable, 403 unless permitted. */
  refuseUnless(probe: AccessProbe | undefined): void;
  /** The ids the verb acted on, when they differ from the need's (a lookup by name, a batch). */
  acted(ids: readonly string[]): void;
}

const columnOf = (type: ObjectType) => sql.raw(`${type === "api_key" ? "api_keys" : `${type}s`}.id`);

/** Runs `verb` under the need: the predicate, the refusal rule and the shadow record in one place. */
export async function guard<T>(
  ctx: ServiceContext,
  need: Need,
  verb: (grant: Grant) => Promise<T>,
): Promise<T> {
  const column = columnOf(need.type);
  const allowed = await ctx.access.filter(need.type, need.permission, column, need.ids);
  let acted = need.ids ? [...need.ids] : [];
  const grant: Grant = {
    allowed,
    readable: async () =>
      need.permission === "read" ? allowed : ctx.access.filter(need.type, "read", column, need.ids),
    refuseUnless: (probe) => assertPermitted(probe),
    acted: (ids) => {
      acted = [...ids];
    },
  };
  const result = await verb(grant);
  ctx.access.observe(need.type, need.permission, acted);
  return result;
}

/** A list: the scope decides which rows the principal sees; the verb says which it returned. */
export async function guardList<T>(
  ctx: ServiceContext,
  need: Omit<Need, "ids">,
  verb: (scope: ListScope, acted: (ids: readonly string[]) => void) => Promise<T>,
): Promise<T> {
  const scope = await ctx.access.listScope(need.type, need.permission, columnOf(need.type));
  let acted: string[] = [];
  const result = await verb(scope, (ids) => {
    acted = [...ids];
  });
  ctx.access.observe(need.type, need.permission, acted);
  return result;
}
