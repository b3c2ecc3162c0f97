import type { Principal } from "../auth/principal.ts";
import { membershipEdge } from "../authz/model.ts";
import type { Database } from "../db/client.ts";
import { foreignKeyViolation, sqlState } from "../db/pg-error.ts";
import type { AccountRole, PrincipalType } from "../db/schema/enums.ts";
import { NotFoundError, ValidationError } from "../errors/domain-error.ts";
import { constantTimeEqual, sha256, toHex } from "../lib/crypto.ts";
import { newId } from "../lib/ids.ts";
import type { OperatorContext } from "../lib/service-context.ts";
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

/** What a well-formed bearer token presents. `tokenDigest` keys the negative cache and the rate limit. */
export interface PresentedKey {
  keyId: string;
  secretHash: Uint8Array;
  secretHashHex: string;
  tokenDigest: string;
}

/** The key a bearer token names and its secret's digest; undefined for a malformed token. */
export async function presentedKey(token: string): Promise<PresentedKey | undefined> {
  const parsed = parseToken(token);
  if (!parsed) return undefined;
  const [tokenDigest, secretHash] = await Promise.all([sha256(token), sha256(parsed.secret)]);
  return {
    keyId: parsed.keyId,
    secretHash,
    secretHashHex: toHex(secretHash),
    tokenDigest: toHex(tokenDigest),
  };
}

/**
 * The principal a presented key stands for, or undefined for an unknown or revoked key or a wrong
 * secret, looked up before the verb runs (routes whose verb does not authenticate in its own
 * statement, see auth/caller.ts).
 */
export async function authenticateKey(db: Database, presented: PresentedKey): Promise<Principal | undefined> {
  const row = await findUnrevokedApiKey(db, presented.keyId);
  const matches = constantTimeEqual(presented.secretHash, row?.secretHash ?? absentKeyHash);
  if (!row || !matches) return undefined;
  return {
    accountId: row.accountId,
    type: row.principalType,
    id: row.principalId,
    role: row.role,
    keyId: row.id,
  };
}
