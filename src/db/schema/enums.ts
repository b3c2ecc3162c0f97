import { pgEnum } from "drizzle-orm/pg-core";

/** Kinds of principal from the customer's identity system (DESIGN §2). */
export const principalTypes = ["user", "service_account"] as const;
export type PrincipalType = (typeof principalTypes)[number];
export const principalType = pgEnum("principal_type", principalTypes);

/** A principal's role inside its account: admins see and manage everything in it. */
export const accountRoles = ["admin", "member"] as const;
export type AccountRole = (typeof accountRoles)[number];
export const accountRole = pgEnum("account_role", accountRoles);
