import { neon, neonConfig, Pool, type PoolClient } from "@neondatabase/serverless";
import { drizzle as drizzleHttp } from "drizzle-orm/neon-http";
import { drizzle, type NeonDatabase } from "drizzle-orm/neon-serverless";
import * as schema from "./schema/index.ts";

export type Database = NeonDatabase<typeof schema>;
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** What a repo function runs its one statement on: the request's database or a transaction. */
export type Executor = Database | Transaction;

export interface DatabaseHandle {
  db: Database;
  close(): Promise<void>;
}

/** How single statements reach the database; transactions always take a WebSocket connection. */
export type DatabaseTransport = "http" | "websocket";

export interface DatabaseSettings {
  databaseUrl: string;
  /** `host:port` of the local bridge (WebSocket and `/sql`); unset against Neon. */
  databaseWsProxy: string | undefined;
  /** `http` unless said. */
  databaseTransport?: DatabaseTransport | undefined;
}

export interface Statement {
  text: string;
  params: unknown[];
}

/**
 * Sees every statement sent outside a transaction, on either transport, and every connection a
 * transaction takes. Tests count statements and inject faults through it: `statement` may return
 * a replacement or throw.
 */
export interface DatabaseHooks {
  statement?(statement: Statement): Statement | undefined;
  connection?(client: PoolClient): void;
}

/**
 * Points the Neon driver at a plain PostgreSQL through the local bridge. The driver only takes
 * this globally (a Pool ignores a per-client override); every request of an isolate has the same
 * bindings, so the assignment is the same each time.
 */
export function routeThroughLocalProxy(address: string): void {
  neonConfig.wsProxy = () => `${address}/v1`;
  neonConfig.fetchEndpoint = `http://${address}/sql`;
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

/**
 * The request's database. Single statements go over Neon's HTTP query path, one round trip each
 * and no connection to set up (ADR 0022); a transaction opens the per-request WebSocket Pool on
 * first use (workerd forbids sharing sockets between requests). `websocket` sends everything
 * over the Pool, as before.
 */
export function openDatabase(
  settings: DatabaseSettings,
  onPoolError: (error: unknown) => void,
  hooks: DatabaseHooks = {},
): DatabaseHandle {
  if (settings.databaseWsProxy) routeThroughLocalProxy(settings.databaseWsProxy);
  let pool: Pool | undefined;
  let closing = false;
  const poolOf = () => {
    pool ??= openPool(settings.databaseUrl, hooks, (error) => {
      if (!closing) onPoolError(error);
    });
    return pool;
  };
  const db =
    settings.databaseTransport === "websocket"
      ? drizzle({ client: poolOf(), schema })
      : (drizzleHttp({ client: httpClient(settings.databaseUrl, hooks), schema }) as unknown as Database);
  db.transaction = (run, config) =>
    onDedicatedClient(poolOf(), (client) => drizzle({ client, schema }).transaction(run, config));
  return {
    db,
    close: () => {
      closing = true;
      return pool?.end() ?? Promise.resolve();
    },
  };
}

function httpClient(url: string, hooks: DatabaseHooks) {
  const sql = neon(url);
  const statement = hooks.statement;
  if (statement) {
    const query = sql.query;
    sql.query = ((text: string, params?: unknown[], options?: object) => {
      const sent = statement({ text, params: params ?? [] }) ?? { text, params: params ?? [] };
      return query(sent.text, sent.params, options);
    }) as typeof sql.query;
  }
  return sql;
}

// Statements stay unnamed (ADR 0015): a transaction-mode pooler may hand a named statement's
// next run to a server connection that never prepared it.
function openPool(url: string, hooks: DatabaseHooks, onError: (error: unknown) => void): Pool {
  const pool = new Pool({ connectionString: url, connectionTimeoutMillis: 10_000 });
  // workerd reports the socket that pool.end() closed as a lost connection; only errors before
  // the close mean something (the caller filters).
  pool.on("error", onError);
  // A client checked out for a transaction has no listener of the pool's: when its connection
  // dies, pg emits "error" on it, and an unheard "error" throws out of the socket handler, which
  // leaves the request waiting forever. The failure reaches the caller through the statement
  // (the current one, or the next: "not queryable"), so hearing it is enough.
  pool.on("connect", (client: PoolClient) => {
    client.on("error", () => {});
  });
  const { statement, connection } = hooks;
  if (statement) {
    const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
    (pool as unknown as { query: unknown }).query = (
      first: unknown,
      values?: unknown[],
      ...rest: unknown[]
    ) => {
      const text = typeof first === "string" ? first : String((first as { text?: string }).text);
      const sent = statement({ text, params: values ?? [] });
      return sent ? query(sent.text, sent.params, ...rest) : query(first, values, ...rest);
    };
  }
  if (connection) {
    const connect = pool.connect.bind(pool) as (...args: unknown[]) => unknown;
    (pool as unknown as { connect: unknown }).connect = (...args: unknown[]) => {
      // pg-pool's own query() connects with a callback; transactions await a promise.
      if (args.length > 0) return connect(...args);
      return (connect() as Promise<PoolClient>).then((client) => {
        connection(client);
        return client;
      });
    };
  }
  return pool;
}
