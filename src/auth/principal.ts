import type { AccountRole, PrincipalType } from "../db/schema/enums.ts";

/** Who is calling: a user or service account of one account, as authenticated by an API key. */
export interface Principal {
  accountId: string;
  type: PrincipalType;
  id: string;
  role: AccountRole;
  /** The API key that authenticated this request. */
  keyId: string;
}
