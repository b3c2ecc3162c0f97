// DESIGN §14: every statement runs under statement_timeout and idle_in_transaction_session_timeout,
// set on the Worker's role (ADR 0015). The global setup applies them as `npm run db:migrate` does;
// the lowered values below are scoped to this file's database (ALTER ROLE … IN DATABASE).
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { connectSession } from "../../scripts/local/database-url.ts";
import { openDatabase } from "../../src/db/client.ts";
import {
  applyRoleTimeouts,
  RoleTimeoutError,
  roleTimeoutsFrom,
  workerRoleOf,
} from "../../src/db/migrations/role-timeouts.ts";
import { runMigrations } from "../../src/db/migrations/runner.ts";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { writeMigrationFolder } from "../support/migration-fixtures.ts";
import { callAs, createAgent, createTask } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";
import { createTestDatabase } from "../support/test-database.ts";

type Session = Awaited<ReturnType<typeof connectSession>>;

/** Ends every other session of the database and waits until the server has let them go. */
async function endOtherSessions(admin: Session, database: string) {
  const others = `FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`;
  await admin.query(`SELECT pg_terminate_backend(pid) ${others}`, [database]);
  for (let waited = 0; waited < 5000; waited += 20) {
    const { rows } = await admin.query(`SELECT count(*)::int AS n ${others}`, [database]);
    if (rows[0].n === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("the database's other sessions did not end");
}

describe("statement and idle timeouts on the Worker's role", () => {
  const testApp = useTestApp();

  async function showTimeouts(databaseUrl: string) {
    const handle = openDatabase({ databaseUrl, databaseWsProxy: testApp.database.proxy }, () => {});
    try {
      const statement = await handle.db.execute<{ statement_timeout: string }>(sql`SHOW statement_timeout`);
      const idle = await handle.db.execute<{ idle_in_transaction_session_timeout: string }>(
        sql`SHOW idle_in_transaction_session_timeout`,
      );
      return {
        statementTimeout: statement.rows[0]?.statement_timeout,
        idleInTransactionSessionTimeout: idle.rows[0]?.idle_in_transaction_session_timeout,
      };
    } finally {
      await handle.close();
    }
  }

  it("holds on the app's own database path", async () => {
    expect(await showTimeouts(testApp.database.url)).toEqual(roleTimeoutsFrom(process.env));
  });

  it("cancels a request's statement that waits past it: 503 db_unavailable, nothing written", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const taskId = await createTask(testApp.client, owner, await createAgent(testApp.client, owner));
    const admin = await connectSession(testApp.database.url, testApp.database.proxy);
    let holder: Session | undefined;
    try {
      await applyRoleTimeouts(
        admin,
        { statementTimeout: "1s", idleInTransactionSessionTimeout: "15s" },
        { database: testApp.database.name },
      );
      // A role's settings apply to sessions that start after them; the bridge's warm HTTP
      // connections (like Neon's pooled ones) started before, so they are ended here.
      await endOtherSessions(admin, testApp.database.name);
      holder = await connectSession(testApp.database.url, testApp.database.proxy);
      expect((await showTimeouts(testApp.database.url)).statementTimeout).toBe("1s");
      await holder.query("SET idle_in_transaction_session_timeout = 0");
      await holder.query("BEGIN");
      await holder.query("SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE", [taskId]);

      const response = await callAs(testApp.client, owner)("POST", `/v1/tasks/${taskId}/cancel`, {
        reason: "too slow",
      });
      expect(response.status, response.text).toBe(503);
      expect(response.body.code).toBe("db_unavailable");
      expect(response.headers.get("retry-after")).not.toBeNull();

      await holder.query("ROLLBACK");
      const task = await callAs(testApp.client, owner)("GET", `/v1/tasks/${taskId}`);
      expect(task.body.state).toBe("submitted");
    } finally {
      await holder?.end().catch(() => {});
      await admin.query(`ALTER ROLE CURRENT_USER IN DATABASE ${testApp.database.name} RESET ALL`);
      await endOtherSessions(admin, testApp.database.name);
      await admin.end();
    }
  });

  it("does not apply to the migration runner, whose statements may rightly run long", async () => {
    const database = await createTestDatabase({ empty: true });
    const admin = await connectSession(database.url, database.proxy);
    try {
      await applyRoleTimeouts(
        admin,
        { statementTimeout: "100ms", idleInTransactionSessionTimeout: "100ms" },
        { database: database.name },
      );
      const session = await connectSession(database.url, database.proxy);
      try {
        const folder = writeMigrationFolder([["0000_slow", "SELECT pg_sleep(0.5);"]]);
        const report = await runMigrations(session, { folder });
        expect(report.applied).toEqual(["0000_slow"]);
      } finally {
        await session.end();
      }
    } finally {
      await admin.end();
      await database.drop();
    }
  });

  it("reads overrides from the environment and refuses what is not a duration", () => {
    expect(
      roleTimeoutsFrom({ LEASEHOLD_STATEMENT_TIMEOUT: "5s", LEASEHOLD_IDLE_IN_TRANSACTION_TIMEOUT: "2min" }),
    ).toEqual({ statementTimeout: "5s", idleInTransactionSessionTimeout: "2min" });
    expect(roleTimeoutsFrom({})).toEqual({ statementTimeout: "10s", idleInTransactionSessionTimeout: "15s" });
    for (const bad of ["0", "-1s", "10 s", "10s; DROP TABLE tasks", "forever"]) {
      expect(() => roleTimeoutsFrom({ LEASEHOLD_STATEMENT_TIMEOUT: bad })).toThrow(RoleTimeoutError);
    }
    expect(workerRoleOf("postgres://worker%2Dapp:pw@ep-x-pooler.us-east-2.aws.neon.tech/app")).toBe(
      "worker-app",
    );
    expect(workerRoleOf(undefined)).toBeUndefined();
  });
});
