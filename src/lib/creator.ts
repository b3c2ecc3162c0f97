import { type SQL, sql } from "drizzle-orm";
import type { PrincipalRef } from "../authz/subjects.ts";
import type { PrincipalType } from "../db/schema/enums.ts";

/** The creator columns every resource carries: exactly one set for API-created resources. */
export function creatorColumns(principal: { type: PrincipalType; id: string }) {
  return {
    creator_user_id: principal.type === "user" ? principal.id : null,
    creator_service_account_id: principal.type === "service_account" ? principal.id : null,
  };
}

/** The same columns as SQL, for an actor given as SQL (a statement's caller). */
export function creatorColumnsSql(actor: { type: SQL; id: SQL }) {
  return {
    creator_user_id: sql`CASE WHEN ${actor.type} = 'user' THEN ${actor.id} END`,
    creator_service_account_id: sql`CASE WHEN ${actor.type} = 'service_account' THEN ${actor.id} END`,
  };
}

export function creatorOf(row: {
  account_id: string;
  creator_user_id: string | null;
  creator_service_account_id: string | null;
}): PrincipalRef | undefined {
  if (row.creator_user_id !== null)
    return { accountId: row.account_id, type: "user", id: row.creator_user_id };
  if (row.creator_service_account_id !== null) {
    return { accountId: row.account_id, type: "service_account", id: row.creator_service_account_id };
  }
  return undefined;
}

export function createdByView(row: {
  creator_user_id: string | null;
  creator_service_account_id: string | null;
}) {
  if (row.creator_user_id !== null) return { type: "user" as const, id: row.creator_user_id };
  if (row.creator_service_account_id !== null)
    return { type: "service_account" as const, id: row.creator_service_account_id };
  return null;
}
