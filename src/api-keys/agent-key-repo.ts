// Agent keys: keys whose principal is a service account of their own, working for one agent.
// One statement per function; each checks the caller's permission on the agent in its WHERE.
import { type SQL, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { columnList, type RowOf } from "../db/rows.ts";
import { apiKeys } from "../db/schema/api-keys.ts";

const agentKeyColumns = [
  "id",
  "account_id",
  "agent_id",
  "created_at",
  "revoked_at",
  "creator_user_id",
  "creator_service_account_id",
] as const;

/**
 * The api_keys columns an agent key shows (never the secret's hash), typed from the drizzle table;
 * every statement here selects by agent, so `agent_id` is set.
 */
export type AgentKeyRecord = Pick<RowOf<typeof apiKeys>, (typeof agentKeyColumns)[number]> & {
  agent_id: string;
};

const columns = columnList(apiKeys, { only: agentKeyColumns });
const agentAllows = (accountId: string, agentId: string, allowed: SQL) =>
  sql`EXISTS (SELECT 1 FROM agents WHERE agents.id = ${agentId} AND agents.account_id = ${accountId} AND ${allowed})`;

/** Inserts the key only when the agent exists in the account and `allowed` holds on it. */
export async function insertAgentKeyIfAllowed(
  db: Executor,
  key: {
    id: string;
    accountId: string;
    agentId: string;
    secretHash: Uint8Array;
    creator: { creator_user_id: string | null; creator_service_account_id: string | null };
  },
  allowed: SQL,
): Promise<AgentKeyRecord | undefined> {
  const result = await db.execute<AgentKeyRecord>(sql`
    INSERT INTO api_keys (id, account_id, agent_id, principal_type, principal_id, role, secret_hash,
                          creator_user_id, creator_service_account_id)
    SELECT ${key.id}, ${key.accountId}, ${key.agentId}, 'service_account', ${key.id}, 'member', ${key.secretHash},
           ${key.creator.creator_user_id}, ${key.creator.creator_service_account_id}
    WHERE ${agentAllows(key.accountId, key.agentId, allowed)}
    RETURNING ${columns}`);
  return result.rows[0];
}

/** A page of the agent's keys, newest first; empty when the agent is not visible. */
export async function listAgentKeys(
  db: Executor,
  accountId: string,
  agentId: string,
  allowed: SQL,
  limit: number,
  before: string | undefined,
): Promise<AgentKeyRecord[]> {
  const result = await db.execute<AgentKeyRecord>(sql`
    SELECT ${columns} FROM api_keys
    WHERE account_id = ${accountId} AND agent_id = ${agentId} AND ${agentAllows(accountId, agentId, allowed)}
      ${before ? sql`AND id < ${before}` : sql``}
    ORDER BY id DESC LIMIT ${limit + 1}`);
  return result.rows;
}

/** Revokes the agent's key (again: keeps the first instant); undefined when nothing matched. */
export async function revokeAgentKey(
  db: Executor,
  accountId: string,
  agentId: string,
  keyId: string,
  allowed: SQL,
): Promise<AgentKeyRecord | undefined> {
  const result = await db.execute<AgentKeyRecord>(sql`
    UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
    WHERE id = ${keyId} AND account_id = ${accountId} AND agent_id = ${agentId}
      AND ${agentAllows(accountId, agentId, allowed)}
    RETURNING ${columns}`);
  return result.rows[0];
}
