import type { Principal } from "../auth/principal.ts";
import type { PrincipalType } from "../db/schema/enums.ts";
import { ValidationError } from "../errors/domain-error.ts";
import { authzSchema, type Relationship, type ResourceType } from "./model.ts";
import { principalSubject } from "./subjects.ts";

export interface GrantInput {
  subject: { type: PrincipalType; id: string };
  relation: string;
}

/** The edge a grant writes: the subject is a principal of the caller's account. */
export function grantEdge(
  caller: Principal,
  type: ResourceType,
  id: string,
  grant: GrantInput,
): Relationship {
  const allowed = authzSchema[type]?.relations[grant.relation]?.subjectTypes ?? [];
  if (!allowed.includes(grant.subject.type)) {
    throw new ValidationError([
      {
        location: "body",
        pointer: "/subject/type",
        message: `A ${grant.relation} of a ${type} cannot be a ${grant.subject.type}.`,
      },
    ]);
  }
  return {
    resourceType: type,
    resourceId: id,
    relation: grant.relation,
    subject: principalSubject({ accountId: caller.accountId, ...grant.subject }),
  };
}
