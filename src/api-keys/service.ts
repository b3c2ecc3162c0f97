import type { Principal } from "../auth/principal.ts";
import { membershipEdge } from "../authz/model.ts";
import type { Database } from "../db/client.ts";
import { foreignKeyViolation, sqlState } from "../db/pg-error.ts";
import type { AccountRole, PrincipalType } from "../db/schema/enums.ts";
import { NotFoundError, ValidationError } from "../errors/domain-error.ts";
import { constantTimeEqual, sha256 } from "../lib/crypto.ts";
import { newId } from "../lib/ids.ts";
import type { OperatorContext } from "../lib/service-context.ts";
import type { NegativeCache } from "./negative-cache.ts";
import {
  type ApiKeyRow,
  findAnyApiKey,
  findUnrevokedApiKey,
  insertApiKey,
  lockPrincipalKeys,
  principalHoldsRole,
  revokeApiKey,
} from "./repo.ts";
import { issueToken, parseToken } from "./token.ts";

export interface ApiKeyView {
  id: string;
  account_id: string;
  principal: { type: PrincipalType; id: string };
  role: AccountRole;
  created_at: string;
  revoked_at: string | null;
}

export function toApiKeyView(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    account_id: row.accountId,
    principal: { type: row.principalType, id: row.principalId },
    role: row.role,
    created_at: row.createdAt.toISOString(),
    revoked_at: row.revokedAt?.toISOString() ?? null,
  };
}

export interface IssuePrincipalKeyInput {
  accountId: string;
  principal: { type: PrincipalType; id: string };
  role: AccountRole;
}

/**
 * Issues a key for a principal; the plaintext token exists only in this return value. The key's
 * role is the principal's membership of the account, written to the graph with the key.
 */
export async function issuePrincipalKey(
  ctx: OperatorContext,
  input: IssuePrincipalKeyInput,
): Promise<{ key: ApiKeyView; token: string }> {
  const id = newId("key");
  const { token, secretHash } = await issueToken(id);
  const principal = { accountId: input.accountId, ...input.principal };
  try {
    const row = await ctx.db.transaction(async (tx) => {
      await lockPrincipalKeys(tx, input.accountId, `${principal.type}:${principal.id}`);
      const inserted = await insertApiKey(tx, {
        id,
        accountId: input.accountId,
        principalType: input.principal.type,
        principalId: input.principal.id,
        role: input.role,
        secretHash,
      });
      await ctx.authorizer.writeEdges(tx, [membershipEdge(principal, input.role)], []);
      return inserted;
    });
    return { key: toApiKeyView(row), token };
  } catch (error) {
    if (sqlState(error) === foreignKeyViolation) {
      throw new ValidationError([{ location: "body", pointer: "/account_id", message: "No such account." }]);
    }
    throw error;
  }
}

/** Revokes a key; the membership it carried goes when no other live key of the principal carries it. */
export async function revokePrincipalKey(ctx: OperatorContext, keyId: string): Promise<void> {
  const found = await ctx.db.transaction(async (tx) => {
    const key = await findAnyApiKey(tx, keyId);
    if (!key) return false;
    await lockPrincipalKeys(tx, key.accountId, `${key.principalType}:${key.principalId}`);
    const revoked = await revokeApiKey(tx, keyId);
    if (revoked && !(await principalHoldsRole(tx, revoked))) {
      const principal = {
        accountId: revoked.accountId,
        type: revoked.principalType,
        id: revoked.principalId,
      };
      await ctx.authorizer.writeEdges(tx, [], [membershipEdge(principal, revoked.role)]);
    }
    return true;
  });
  if (!found) throw new NotFoundError();
}

// Compared against when the key id is unknown, so every presented token costs the same work.
const absentKeyHash = new Uint8Array(32);

/**
 * The principal a bearer token stands for, or undefined for a malformed, unknown or revoked key.
 * A well-formed token that fails is remembered in `rejected` (when given), and answered from there
 * without a database round trip until it expires.
 */
export async function authenticateToken(
  db: Database,
  token: string,
  rejected?: NegativeCache,
): Promise<Principal | undefined> {
  const parsed = parseToken(token);
  const tokenDigest = parsed && rejected ? toHex(await sha256(token)) : undefined;
  if (tokenDigest && rejected?.has(tokenDigest)) return undefined;
  const presentedHash = await sha256(parsed?.secret ?? token);
  const row = parsed ? await findUnrevokedApiKey(db, parsed.keyId) : undefined;
  const matches = constantTimeEqual(presentedHash, row?.secretHash ?? absentKeyHash);
  if (!row || !matches) {
    if (tokenDigest) rejected?.add(tokenDigest);
    return undefined;
  }
  return {
    accountId: row.accountId,
    type: row.principalType,
    id: row.principalId,
    role: row.role,
    keyId: row.id,
  };
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
