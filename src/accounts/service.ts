import { newId } from "../lib/ids.ts";
import type { OperatorContext } from "../lib/service-context.ts";
import { type AccountRow, insertAccount } from "./repo.ts";

export interface AccountView {
  id: string;
  name: string;
  created_at: string;
}

export function toAccountView(row: AccountRow): AccountView {
  return { id: row.id, name: row.name, created_at: row.createdAt.toISOString() };
}

export async function createAccount(ctx: OperatorContext, input: { name: string }): Promise<AccountView> {
  return toAccountView(await insertAccount(ctx.db, { id: newId("acc"), name: input.name }));
}
