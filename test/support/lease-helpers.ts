import { queryRows } from "./graph.ts";
import type { TestDatabase } from "./test-database.ts";

/** Moves a task's lease expiry into the past: the test's way of letting time pass. */
export async function expireLease(database: TestDatabase, taskId: string, secondsAgo = 1): Promise<void> {
  await queryRows(
    database,
    "UPDATE tasks SET lease_expires_at = now() - make_interval(secs => $2) WHERE id = $1",
    [taskId, secondsAgo],
  );
}

/** Lets the next heartbeat pass the TTL/6 rate limit. */
export async function ageHeartbeat(database: TestDatabase, taskId: string, seconds = 3600): Promise<void> {
  await queryRows(
    database,
    "UPDATE tasks SET last_heartbeat_at = now() - make_interval(secs => $2) WHERE id = $1",
    [taskId, seconds],
  );
}

export async function eventTypes(database: TestDatabase, taskId: string): Promise<string[]> {
  const rows = await queryRows<{ type: string }>(
    database,
    "SELECT type FROM task_events WHERE task_id = $1 ORDER BY id",
    [taskId],
  );
  return rows.map((row) => row.type);
}
