import type { Principal } from "../auth/principal.ts";
import type { Executor } from "../db/client.ts";
import { ConflictError } from "../errors/domain-error.ts";
import { canonicalJson } from "../lib/canonical-json.ts";
import { claimIdempotencyKey, findIdempotencyRecord, recordIdempotentResponse } from "./repo.ts";

export interface CreateOutcome<T> {
  status: number;
  body: T;
  /** True when this is the stored response of an earlier request with the same key. */
  replayed: boolean;
}

async function requestHash(operation: string, request: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(`${operation}\n${canonicalJson(request)}`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Runs a create once per Idempotency-Key, inside the create's own transaction `tx`: the key row
 * and the resource commit together, so a failed create leaves the key free for a retry, and a
 * concurrent duplicate waits on the key's row lock and then replays the stored response.
 * Keys are scoped to the account, the principal and the operation.
 */
export async function runIdempotently<T>(
  tx: Executor,
  principal: Principal,
  operation: string,
  key: string | undefined,
  request: unknown,
  create: () => Promise<{ status: number; body: T }>,
): Promise<CreateOutcome<T>> {
  if (key === undefined) return { ...(await create()), replayed: false };
  const scope = {
    accountId: principal.accountId,
    principal: `${principal.type}:${principal.id}`,
    operation,
    key,
  };
  const hash = await requestHash(operation, request);
  if (await claimIdempotencyKey(tx, scope, hash)) {
    const outcome = await create();
    await recordIdempotentResponse(tx, scope, outcome.status, outcome.body);
    return { ...outcome, replayed: false };
  }
  const record = await findIdempotencyRecord(tx, scope);
  if (!record || record.requestHash !== hash || record.responseStatus === null) {
    throw new ConflictError(
      "idempotency_key_reused",
      "This Idempotency-Key was already used with a different request.",
    );
  }
  return { status: record.responseStatus, body: record.responseBody as T, replayed: true };
}
