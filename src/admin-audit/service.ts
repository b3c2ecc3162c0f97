import type { Database } from "../db/client.ts";
import { insertAdminAuditEvent } from "./repo.ts";

/** Which admin secret authenticated the action: ADMIN_TOKEN or ADMIN_TOKEN_NEXT. Never the token. */
export type AdminTokenSlot = "current" | "next";

export interface AdminAction {
  /** Method and route pattern, e.g. `DELETE /v1/admin/api-keys/:id`. */
  action: string;
  tokenSlot: AdminTokenSlot;
  requestId: string;
  accountId?: string | undefined;
  targetId?: string | undefined;
  /** Non-secret facts only: the response status, its problem code, numeric results. */
  detail: Record<string, unknown>;
}

const targetTypes: Record<string, string> = {
  acc: "account",
  agt: "agent",
  key: "api_key",
  sch: "schedule",
  tsk: "task",
};

// The one shape leasehold ids have (src/lib/ids.ts); anything else is not recorded as an id.
const resourceId = /^([a-z]{3})_[0-9a-hjkmnp-tv-z]{26}$/;

/** The id as a target, when it is one of ours; undefined for anything else a caller sent. */
export function asResourceId(value: unknown): string | undefined {
  return typeof value === "string" && resourceId.test(value) ? value : undefined;
}

/** Records one admin action. The target's type is read off its id's prefix. */
export async function recordAdminAction(db: Database, action: AdminAction): Promise<void> {
  const prefix = action.targetId ? resourceId.exec(action.targetId)?.[1] : undefined;
  const accountId = action.accountId ?? (prefix === "acc" ? action.targetId : undefined);
  await insertAdminAuditEvent(db, {
    action: action.action,
    tokenSlot: action.tokenSlot,
    requestId: action.requestId,
    accountId: accountId ?? null,
    targetType: prefix ? (targetTypes[prefix] ?? null) : null,
    targetId: action.targetId ?? null,
    detail: action.detail,
  });
}
