import { neonConfig, Pool, type PoolClient } from "@neondatabase/serverless";
import { drizzle, type NeonDatabase } from "drizzle-orm/neon-serverless";
import * as schema from "./schema/index.ts";

export type Database = NeonDatabase<typeof schema>;
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** What a repo function runs its one statement on: the request's database or a transaction. */
export type Executor = Database | Transaction;

export interface DatabaseHandle {
  db: Database;
  pool: Pool;
  close(): Promise<void>;
}

export interface DatabaseSettings {
  databaseUrl: string;
  /** `host:port` of the local WebSocket-to-TCP bridge; unset against Neon. */
  databaseWsProxy: string | undefined;
}

/**
 * Points the Neon driver at a plain PostgreSQL through the local bridge. The driver only takes
 * this globally (a Pool ignores a per-client override); every request of an isolate has the same
 * bindings, so the assignment is the same each time.
 */
export function routeThroughLocalProxy(address: string): void {
  neonConfig.wsProxy = () => `${address}/v1`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  // SCRAM authentication cannot be pipelined with the startup message.
  neonConfig.pipelineConnect = false;
}

/**
 * drizzle (0.45) checks a client out for `db.transaction` and releases it in a `finally` that
 * does not cover its BEGIN: when the connection dies between the checkout and BEGIN, the client
 * is never released and `pool.end()` waits forever. Checking the client out here and handing
 * drizzle the client itself releases it on every path.
 */
async function onDedicatedClient<T>(pool: Pool, run: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await run(client);
  } finally {
    // A client whose connection failed is dropped by the pool rather than reused.
    client.release();
  }
}

/** One Pool per request: workerd forbids sharing sockets between requests. */
export function openDatabase(
  settings: DatabaseSettings,
  onPoolError: (error: unknown) => void,
): DatabaseHandle {
  if (settings.databaseWsProxy) routeThroughLocalProxy(settings.databaseWsProxy);
  // Statements stay unnamed (ADR 0015): a transaction-mode pooler may hand a named statement's
  // next run to a server connection that never prepared it.
  const pool = new Pool({ connectionString: settings.databaseUrl, connectionTimeoutMillis: 10_000 });
  let closing = false;
  // workerd reports the socket that pool.end() closed as a lost connection; only errors before
  // the close mean something.
  pool.on("error", (error: unknown) => {
    if (!closing) onPoolError(error);
  });
  // A client checked out for a transaction has no listener of the pool's: when its connection
  // dies, pg emits "error" on it, and an unheard "error" throws out of the socket handler, which
  // leaves the request waiting forever. The failure reaches the caller through the statement
  // (the current one, or the next: "not queryable"), so hearing it is enough.
  pool.on("connect", (client: PoolClient) => {
    client.on("error", () => {});
  });
  const db = drizzle({ client: pool, schema });
  db.transaction = (run, config) =>
    onDedicatedClient(pool, (client) => drizzle({ client, schema }).transaction(run, config));
  return {
    db,
    pool,
    close: () => {
      closing = true;
      return pool.end();
    },
  };
}
