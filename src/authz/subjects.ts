import type { Principal } from "../auth/principal.ts";
import type { SubjectRef } from "./sql-compiler.ts";

// Principal ids come from customers' identity systems (e-mail addresses, URNs) and are only
// unique within an account. In the graph they become `<account id>/<base64url(id)>`, which is
// reversible and uses only characters SpiceDB accepts in object ids.
function base64url(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export type PrincipalRef = Pick<Principal, "accountId" | "type" | "id">;

export function principalSubject(principal: PrincipalRef): SubjectRef {
  return { type: principal.type, id: `${principal.accountId}/${base64url(principal.id)}` };
}
