import { sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";

export type BackfillRow = {
  id: string;
  account_id: string;
  agent_id: string | null;
  creator_user_id: string | null;
  creator_service_account_id: string | null;
};

/** One batch of agents, in id order after `after`. */
export async function agentBatch(db: Executor, after: string, limit: number) {
  const result = await db.execute<BackfillRow>(sql`
    SELECT id, account_id, NULL AS agent_id, creator_user_id, creator_service_account_id
    FROM agents WHERE id > ${after} ORDER BY id LIMIT ${limit}`);
  return result.rows;
}

/** One batch of tasks, in id order after `after`. */
export async function taskBatch(db: Executor, after: string, limit: number) {
  const result = await db.execute<BackfillRow>(sql`
    SELECT id, account_id, agent_id, creator_user_id, creator_service_account_id
    FROM tasks WHERE id > ${after} ORDER BY id LIMIT ${limit}`);
  return result.rows;
}

/** One batch of schedules, in id order after `after`. */
export async function scheduleBatch(db: Executor, after: string, limit: number) {
  const result = await db.execute<BackfillRow>(sql`
    SELECT id, account_id, agent_id, creator_user_id, creator_service_account_id
    FROM schedules WHERE id > ${after} ORDER BY id LIMIT ${limit}`);
  return result.rows;
}

export type MembershipRow = {
  id: string;
  account_id: string;
  principal_type: "user" | "service_account";
  principal_id: string;
  role: "admin" | "member";
};

/**
 * One batch of unrevoked account keys, whose roles are account memberships. Agent keys are not
 * among them: their service account is the agent's worker and never an account member.
 */
export async function keyBatch(db: Executor, after: string, limit: number) {
  const result = await db.execute<MembershipRow>(sql`
    SELECT id, account_id, principal_type, principal_id, role
    FROM api_keys WHERE id > ${after} AND revoked_at IS NULL AND agent_id IS NULL ORDER BY id LIMIT ${limit}`);
  return result.rows;
}

/** One batch of unrevoked agent keys (an `api_key` resource and its agent's worker each). */
export async function agentKeyBatch(db: Executor, after: string, limit: number) {
  const result = await db.execute<BackfillRow>(sql`
    SELECT id, account_id, agent_id, creator_user_id, creator_service_account_id
    FROM api_keys WHERE id > ${after} AND revoked_at IS NULL AND agent_id IS NOT NULL ORDER BY id LIMIT ${limit}`);
  return result.rows;
}
