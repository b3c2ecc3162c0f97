import { neonConfig, Pool } from "@neondatabase/serverless";
import { drizzle, type NeonDatabase } from "drizzle-orm/neon-serverless";
import * as schema from "./schema/index.ts";
import { nameStatements, StatementNames } from "./statement-names.ts";

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

// Per isolate: names depend only on statement text, and every connection may reuse them.
const statementNames = new StatementNames();

/** One Pool per request: workerd forbids sharing sockets between requests. */
export function openDatabase(
  settings: DatabaseSettings,
  onPoolError: (error: unknown) => void,
): DatabaseHandle {
  if (settings.databaseWsProxy) routeThroughLocalProxy(settings.databaseWsProxy);
  const pool = nameStatements(
    new Pool({ connectionString: settings.databaseUrl, connectionTimeoutMillis: 10_000 }),
    statementNames,
  );
  let closing = false;
  // workerd reports the socket that pool.end() closed as a lost connection; only errors before
  // the close mean something.
  pool.on("error", (error: unknown) => {
    if (!closing) onPoolError(error);
  });
  return {
    db: drizzle({ client: pool, schema }),
    pool,
    close: () => {
      closing = true;
      return pool.end();
    },
  };
}
