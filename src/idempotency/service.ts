import type { Principal } from "../auth/principal.ts";
import type { Transaction } from "../db/client.ts";
import { ConflictError } from "../errors/domain-error.ts";
import { canonicalJson } from "../lib/canonical-json.ts";
import type { Persisted } from "../resources/create-path.ts";
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
 * Wraps a create's `insert` so it runs once per Idempotency-Key, inside the create's own
 * transaction: the key row and the resource commit together, so a failed create leaves the key
 * free for a retry, and a concurrent duplicate waits on the key's row lock and then replays the
 * stored response. Keys are scoped to the account, the principal and the operation. A replay
 * keeps none of the edges registered for it: its fresh ids name no row (ADR 0020).
 */
export function idempotent<T>(
  principal: Principal,
  request: { operation: string; idempotencyKey: string | undefined; body: unknown },
  insert: (tx: Transaction) => Promise<T>,
): (tx: Transaction) => Promise<Persisted<CreateOutcome<T>>> {
  const { operation, idempotencyKey: key } = request;
  return async (tx) => {
    if (key === undefined) return { value: { status: 201, body: await insert(tx), replayed: false } };
    const scope = {
      accountId: principal.accountId,
      principal: `${principal.type}:${principal.id}`,
      operation,
      key,
    };
    const hash = await requestHash(operation, request.body);
    if (await claimIdempotencyKey(tx, scope, hash)) {
      const body = await insert(tx);
      await recordIdempotentResponse(tx, scope, 201, body);
      return { value: { status: 201, body, replayed: false } };
    }
    const record = await findIdempotencyRecord(tx, scope);
    if (!record || record.requestHash !== hash || record.responseStatus === null) {
      throw new ConflictError(
        "idempotency_key_reused",
        "This Idempotency-Key was already used with a different request.",
      );
    }
    return {
      value: { status: record.responseStatus, body: record.responseBody as T, replayed: true },
      keep: () => false,
    };
  };
}
