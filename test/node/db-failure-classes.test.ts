// ADR 0015's classification, on errors the driver really throws: each one is produced here against
// the real server (or a real socket that fails), then classified.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { neon, neonConfig, Pool } from "@neondatabase/serverless";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { connectSession } from "../../scripts/local/database-url.ts";
import { startDbProxy } from "../../scripts/local/db-proxy.ts";
import { freePort } from "../../scripts/local/embedded-postgres.ts";
import { openDatabase, routeThroughLocalProxy } from "../../src/db/client.ts";
import { isDatabaseUnavailable, toDomainError } from "../../src/errors/to-domain-error.ts";
import { randomHex } from "../../src/lib/crypto.ts";
import { useTestApp } from "../support/test-app.ts";

describe("which database failures are 503s", () => {
  const testApp = useTestApp();
  const settings = () => ({ databaseUrl: testApp.database.url, databaseWsProxy: testApp.database.proxy });
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  /** Runs `fail` on a database handle of its own; returns what it threw. */
  async function thrownBy(
    fail: (handle: ReturnType<typeof openDatabase>) => Promise<unknown>,
    databaseSettings = settings(),
  ): Promise<unknown> {
    const handle = openDatabase(databaseSettings, () => {});
    try {
      await fail(handle);
    } catch (error) {
      return error;
    } finally {
      await handle.close().catch(() => {});
    }
    throw new Error("expected a failure");
  }

  function expectUnavailable(error: unknown) {
    const domain = toDomainError(error);
    expect(domain?.code, String(error)).toBe("db_unavailable");
    expect(domain?.retryAfterSeconds).toBeGreaterThan(0);
  }

  it("a WebSocket that cannot connect (a bare ErrorEvent), for a statement and for a transaction", async () => {
    const dead = { databaseUrl: testApp.database.url, databaseWsProxy: `127.0.0.1:${await freePort()}` };
    expectUnavailable(await thrownBy((handle) => handle.db.execute(sql`SELECT 1`), dead));
    expectUnavailable(
      await thrownBy((handle) => handle.db.transaction((tx) => tx.execute(sql`SELECT 1`)), dead),
    );
  });

  it("the bridge answering while PostgreSQL is gone: Connection terminated unexpectedly", async () => {
    const proxy = await startDbProxy({ targetHost: "127.0.0.1", targetPort: await freePort() });
    cleanups.push(() => proxy.close());
    const dead = { databaseUrl: testApp.database.url, databaseWsProxy: `127.0.0.1:${proxy.port}` };
    expectUnavailable(await thrownBy((handle) => handle.db.execute(sql`SELECT 1`), dead));
  });

  it("too many connections (53300)", async () => {
    const role = `lh_limited_${randomHex(4)}`;
    const admin = await connectSession(testApp.database.url, testApp.database.proxy);
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'limited' CONNECTION LIMIT 0`);
    cleanups.push(async () => {
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    });
    const url = new URL(testApp.database.url);
    url.username = role;
    url.password = "limited";
    const error = await thrownBy((handle) => handle.db.execute(sql`SELECT 1`), {
      databaseUrl: url.toString(),
      databaseWsProxy: testApp.database.proxy,
    });
    expect((error as { cause?: { code?: string } }).cause?.code).toBe("53300");
    expectUnavailable(error);
  });

  it("statement timeout (57014) and lock timeout (55P03)", async () => {
    expectUnavailable(
      await thrownBy((handle) =>
        handle.db.transaction(async (tx) => {
          await tx.execute(sql`SET LOCAL statement_timeout = '50ms'`);
          await tx.execute(sql`SELECT pg_sleep(5)`);
        }),
      ),
    );
    const holder = await connectSession(testApp.database.url, testApp.database.proxy);
    try {
      await holder.query("BEGIN");
      await holder.query("LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE");
      expectUnavailable(
        await thrownBy((handle) =>
          handle.db.transaction(async (tx) => {
            await tx.execute(sql`SET LOCAL lock_timeout = '50ms'`);
            await tx.execute(sql`SELECT count(*) FROM accounts`);
          }),
        ),
      );
    } finally {
      await holder.query("ROLLBACK");
      await holder.end();
    }
  });

  it("a transaction whose session the idle timeout closed: the ROLLBACK's 'not queryable'", async () => {
    const error = await thrownBy((handle) =>
      handle.db.transaction(async (tx) => {
        await tx.execute(sql`SET LOCAL idle_in_transaction_session_timeout = '50ms'`);
        const closedBy = Date.now() + 10_000;
        // Idle until the server has ended the session (it reports 25P03 and closes).
        while (Date.now() < closedBy) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          const ended = await connectSession(testApp.database.url, testApp.database.proxy).then(async (s) => {
            const { rows } = await s.query(
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND state = 'idle in transaction'",
              [testApp.database.name],
            );
            await s.end();
            return rows[0].n === 0;
          });
          if (ended) break;
        }
        await tx.execute(sql`SELECT 1`);
      }),
    );
    expectUnavailable(error);
  });

  it("a Pool that cannot connect in time (connection timeout)", async () => {
    const silent = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise((resolve) => silent.once("listening", resolve));
    cleanups.push(async () => {
      for (const socket of silent.clients) socket.terminate();
      await new Promise((resolve) => silent.close(resolve));
    });
    neonConfig.wsProxy = () => `127.0.0.1:${(silent.address() as AddressInfo).port}/v1`;
    const pool = new Pool({ connectionString: testApp.database.url, connectionTimeoutMillis: 200 });
    pool.on("error", () => {});
    try {
      expectUnavailable(await pool.query("SELECT 1").catch((error: unknown) => error));
      expectUnavailable(await pool.connect().catch((error: unknown) => error));
    } finally {
      await pool.end().catch(() => {});
      if (testApp.database.proxy) routeThroughLocalProxy(testApp.database.proxy);
    }
  });

  it("Neon's HTTP path: a rejected fetch and a 5xx from the proxy (NeonDbError)", async () => {
    const server = createServer((_request, response) => {
      response.writeHead(503).end("compute is starting");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const previous = neonConfig.fetchEndpoint;
    try {
      neonConfig.fetchEndpoint = `http://127.0.0.1:${await freePort()}/sql`;
      expectUnavailable(
        await neon(testApp.database.url)
          .query("SELECT 1")
          .catch((error: unknown) => error),
      );
      neonConfig.fetchEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sql`;
      expectUnavailable(
        await neon(testApp.database.url)
          .query("SELECT 1")
          .catch((error: unknown) => error),
      );
    } finally {
      neonConfig.fetchEndpoint = previous;
    }
  });

  it("is not fooled by values: a statement error quoting 'Connection terminated' stays an internal error", async () => {
    const bait = "Connection terminated unexpectedly; connect ECONNREFUSED; Received network error";
    const typeError = await thrownBy((handle) => handle.db.execute(sql`SELECT ${bait}::int`));
    expect(isDatabaseUnavailable(typeError)).toBe(false);
    const unique = await thrownBy(async (handle) => {
      await handle.db.execute(sql`CREATE TEMP TABLE names (name text PRIMARY KEY)`);
      await handle.db.execute(sql`INSERT INTO names VALUES (${bait}), (${bait})`);
    });
    expect(isDatabaseUnavailable(unique)).toBe(false);
    expect(isDatabaseUnavailable(new Error(`upstream said: ${bait}`))).toBe(false);
  });

  it("keeps configuration errors internal (500): a wrong password, a missing database", async () => {
    const wrongPassword = new URL(testApp.database.url);
    wrongPassword.password = "not-the-password";
    const missing = new URL(testApp.database.url);
    missing.pathname = `/lh_missing_${randomHex(4)}`;
    for (const url of [wrongPassword, missing]) {
      const error = await thrownBy((handle) => handle.db.execute(sql`SELECT 1`), {
        databaseUrl: url.toString(),
        databaseWsProxy: testApp.database.proxy,
      });
      expect((error as { cause?: { code?: string } }).cause?.code).toMatch(/^(28P01|3D000)$/);
      expect(toDomainError(error)).toBeUndefined();
    }
  });
});
