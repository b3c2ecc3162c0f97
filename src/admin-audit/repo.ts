import type { Executor } from "../db/client.ts";
import { adminAuditEvents } from "../db/schema/index.ts";

export type NewAdminAuditEvent = typeof adminAuditEvents.$inferInsert;

export async function insertAdminAuditEvent(db: Executor, values: NewAdminAuditEvent): Promise<void> {
  await db.insert(adminAuditEvents).values(values);
}
