// leasehold's real HTTP handlers in this process (app.fetch: authentication, validation, JSON),
// on one shared connection pool per cell so that the numbers measure our layers, not connection
// set-up. The per-request Pool of the Worker runtime is measured separately (wrangler dev).
import { Pool as NeonPool } from "@neondatabase/serverless";
import { drizzle as drizzleNeon } from "drizzle-orm/neon-serverless";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import pg from "pg";
import { createApp } from "../src/app.ts";
import { type Database, type DatabaseHandle, routeThroughLocalProxy } from "../src/db/client.ts";
import * as schema from "../src/db/schema/index.ts";
import { randomHex } from "../src/lib/crypto.ts";

export type Driver = "pg" | "neon";

export interface LeaseholdApp {
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown, token?: string): Promise<T>;
  db: Database;
  bindings: Record<string, unknown>;
  /** Statements sent since the last reset (each query, plus one per dedicated connection). */
  statements: { count: number };
  close(): Promise<void>;
}

export interface LeaseholdAppOptions {
  url: string;
  driver: Driver;
  poolSize: number;
  proxyAddress: string;
}

type Queryable = { query: (...args: unknown[]) => unknown; connect: (...args: unknown[]) => unknown };

function countStatements(pool: Queryable, statements: { count: number }): void {
  const query = pool.query.bind(pool);
  pool.query = (...args: unknown[]) => {
    statements.count++;
    return query(...args);
  };
  const connect = pool.connect.bind(pool);
  // pool.query calls connect(callback) itself; a promise-style call is a transaction's connection.
  pool.connect = (...args: unknown[]) => {
    if (args.length === 0) statements.count++;
    return connect(...args);
  };
}

export function openSharedDatabase(options: LeaseholdAppOptions, statements = { count: 0 }) {
  // As the Worker does (src/db/client.ts): unnamed statements (ADR 0015).
  if (options.driver === "neon") {
    routeThroughLocalProxy(options.proxyAddress);
    const pool = new NeonPool({ connectionString: options.url, max: options.poolSize });
    pool.on("error", () => {});
    countStatements(pool as unknown as Queryable, statements);
    return { pool, db: drizzleNeon({ client: pool, schema }), end: () => pool.end() };
  }
  const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize });
  pool.on("error", () => {});
  countStatements(pool as unknown as Queryable, statements);
  // node-postgres and the Neon driver share pg's API; drizzle's query surface is the same for both.
  const db = drizzlePg({ client: pool, schema }) as unknown as Database;
  return { pool, db, end: () => pool.end() };
}

export async function openLeaseholdApp(options: LeaseholdAppOptions): Promise<LeaseholdApp> {
  const statements = { count: 0 };
  const shared = openSharedDatabase(options, statements);
  const handle = { db: shared.db, close: async () => {} } satisfies DatabaseHandle;
  const bindings: Record<string, unknown> = {
    DATABASE_URL: options.url,
    DATABASE_WS_PROXY: options.proxyAddress,
    ADMIN_TOKEN: `adm_${randomHex(24)}`,
  };
  const app = createApp({ openDatabase: () => handle, logSink: () => {} });
  // Like workerd, hand each request an execution context; work it defers is awaited on close.
  const deferred = new Set<Promise<unknown>>();
  const executionContext = {
    waitUntil(work: Promise<unknown>) {
      deferred.add(work);
      void work.finally(() => deferred.delete(work));
    },
    passThroughOnException() {},
    props: {},
  };
  return {
    db: shared.db,
    bindings,
    statements,
    async call<T>(method: string, path: string, body?: unknown, token?: string) {
      const response = await app.fetch(
        new Request(`http://bench.local${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token ?? (bindings.ADMIN_TOKEN as string)}`,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }),
        bindings,
        executionContext,
      );
      const text = await response.text();
      if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`);
      return JSON.parse(text) as T;
    },
    async close() {
      await Promise.allSettled([...deferred]);
      await shared.end();
    },
  };
}

export interface WorkerIdentity {
  accountId: string;
  principal: { type: "service_account"; id: string };
  token: string;
  agentId: string;
}

/** An account, a service-account key and an agent it owns: all a worker needs. */
export async function provisionWorker(
  call: (method: string, path: string, body?: unknown, token?: string) => Promise<Record<string, unknown>>,
): Promise<WorkerIdentity> {
  const account = await call("POST", "/v1/admin/accounts", { name: "bench" });
  const principal = { type: "service_account" as const, id: "bench-worker" };
  const key = await call("POST", "/v1/admin/api-keys", {
    account_id: account.id,
    principal,
    role: "member",
  });
  const agent = await call("POST", "/v1/agents", { name: "bench" }, key.key as string);
  return {
    accountId: account.id as string,
    principal,
    token: key.key as string,
    agentId: agent.id as string,
  };
}

/** A fresh database cloned from `template`, the app on it and a provisioned worker, for `use`. */
export async function withProvisionedApp<T>(
  env: {
    cloneDatabase(template: string): Promise<{ url: string; drop(): Promise<void> }>;
    proxyAddress: string;
  },
  template: string,
  poolSize: number,
  use: (app: LeaseholdApp, worker: WorkerIdentity) => Promise<T>,
): Promise<T> {
  const database = await env.cloneDatabase(template);
  const app = await openLeaseholdApp({
    url: database.url,
    driver: "pg",
    poolSize,
    proxyAddress: env.proxyAddress,
  });
  try {
    return await use(app, await provisionWorker(app.call));
  } finally {
    await app.close();
    await database.drop();
  }
}
