// A local stand-in for Neon's HTTP query endpoint (`POST /sql`), as driver 1.2.0's `neon()` speaks
// it: the same headers, JSON shapes, status codes and transaction handling as Neon's proxy
// (proxy/src/serverless/sql_over_http.rs), over pools of warm connections to the one PostgreSQL
// it was started with. The header's host and port are ignored, so a request cannot steer it.
import type { IncomingMessage, ServerResponse } from "node:http";
import pg from "pg";

export interface SqlOverHttpOptions {
  targetHost: string;
  targetPort: number;
  /** Connections per (user, password, database). */
  poolSize?: number;
  idleTimeoutMillis?: number;
  /** Neon's documented limit is 64 MB each way. */
  maxRequestBytes?: number;
  maxResponseBytes?: number;
}

export interface SqlOverHttp {
  handle(request: IncomingMessage, response: ServerResponse): void;
  close(): Promise<void>;
}

const megabytes64 = 64 * 1024 * 1024;

interface Statement {
  query: string;
  params: (string | null)[];
  arrayMode: boolean | undefined;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const isolationLevels: Record<string, string> = {
  ReadUncommitted: "READ UNCOMMITTED",
  ReadCommitted: "READ COMMITTED",
  RepeatableRead: "REPEATABLE READ",
  Serializable: "SERIALIZABLE",
};

// Rows stay the server's text; the driver parses them by dataTypeID, as it does Neon's answer.
const rawText = {
  getTypeParser: () => (value: string) => value,
} as unknown as pg.CustomTypesConfig;

export function createSqlOverHttp(options: SqlOverHttpOptions): SqlOverHttp {
  const maxRequestBytes = options.maxRequestBytes ?? megabytes64;
  const maxResponseBytes = options.maxResponseBytes ?? megabytes64;
  const pools = new Map<string, pg.Pool>();
  let closed = false;

  function poolFor(url: URL): { pool: pg.Pool; key: string } {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    const database = decodeURIComponent(url.pathname.slice(1));
    const key = JSON.stringify([user, password, database]);
    let pool = pools.get(key);
    if (!pool) {
      pool = new pg.Pool({
        host: options.targetHost,
        port: options.targetPort,
        user,
        password,
        database,
        max: options.poolSize ?? 10,
        idleTimeoutMillis: options.idleTimeoutMillis ?? 30_000,
        connectionTimeoutMillis: 15_000,
      });
      // The server ends idle connections (DROP DATABASE … WITH (FORCE), a restart); the pool
      // drops them, and an unheard "error" would crash the bridge.
      pool.on("error", () => {});
      // A checked-out client's connection error reaches the caller through its query.
      pool.on("connect", (client) => client.on("error", () => {}));
      pools.set(key, pool);
    }
    return { pool, key };
  }

  async function connect(url: URL): Promise<pg.PoolClient> {
    if (closed) throw new HttpError(503, "the bridge is closing");
    const { pool, key } = poolFor(url);
    try {
      return await pool.connect();
    } catch (error) {
      // Bad credentials would otherwise leave an empty pool behind for every attempt.
      if (pool.totalCount === 0 && pool.waitingCount === 0) pools.delete(key);
      throw error;
    }
  }

  async function single(url: URL, statement: Statement, headers: Headers): Promise<unknown> {
    const client = await connect(url);
    try {
      const result = await run(client, statement, headers);
      // A statement that leaves a transaction open (BEGIN) must not hand it to the next request.
      client.release(client.getTransactionStatus() !== "I");
      return result;
    } catch (error) {
      // As Neon's proxy: a connection whose statement failed is not reused.
      client.release(error as Error);
      throw error;
    }
  }

  async function batch(url: URL, statements: Statement[], headers: Headers): Promise<unknown> {
    const modes = [
      headers.isolationLevel && `ISOLATION LEVEL ${isolationLevels[headers.isolationLevel]}`,
      headers.readOnly && "READ ONLY",
      headers.deferrable && "DEFERRABLE",
    ].filter(Boolean);
    const client = await connect(url);
    try {
      await client.query(modes.length ? `BEGIN ${modes.join(", ")}` : "BEGIN");
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
    const results: unknown[] = [];
    try {
      for (const statement of statements) results.push(await run(client, statement, headers));
    } catch (error) {
      await client.query("ROLLBACK").then(
        () => client.release(client.getTransactionStatus() !== "I"),
        (rollbackError: Error) => client.release(rollbackError),
      );
      throw error;
    }
    try {
      await client.query("COMMIT");
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
    client.release(client.getTransactionStatus() !== "I");
    return { results };
  }

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const headers = parseHeaders(request);
    const url = parseConnectionString(request.headers["neon-connection-string"]);
    const payload = parsePayload(await readBody(request, maxRequestBytes));
    const answer = Array.isArray(payload)
      ? await batch(url, payload, headers)
      : await single(url, payload, headers);
    const json = JSON.stringify(answer);
    if (Buffer.byteLength(json) > maxResponseBytes)
      throw new HttpError(507, `response is too large (max is ${maxResponseBytes} bytes)`);
    send(response, 200, json);
  }

  return {
    handle(request, response) {
      serve(request, response).catch((error: unknown) => {
        const [status, body] = errorAnswer(error);
        send(response, status, JSON.stringify(body));
      });
    },
    async close() {
      closed = true;
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((pool) => pool.end()));
    },
  };
}

async function run(client: pg.PoolClient, statement: Statement, headers: Headers): Promise<unknown> {
  // Extended protocol even without params: an unnamed Parse, so one statement per query, as Neon.
  const config = {
    text: statement.query,
    values: statement.params,
    rowMode: "array" as const,
    types: rawText,
    queryMode: "extended",
  };
  const result = await client.query<unknown[]>(config);
  const arrayMode = statement.arrayMode ?? headers.arrayMode;
  const names = result.fields.map((field) => field.name);
  return {
    command: result.command ?? "",
    rowCount: result.rowCount ?? null,
    rowAsArray: arrayMode,
    fields: result.fields.map((field) => ({
      name: field.name,
      dataTypeID: field.dataTypeID,
      tableID: field.tableID,
      columnID: field.columnID,
      dataTypeSize: field.dataTypeSize,
      dataTypeModifier: field.dataTypeModifier,
      format: "text",
    })),
    rows: arrayMode
      ? result.rows
      : result.rows.map((row) => Object.fromEntries(row.map((value, i) => [names[i], value]))),
  };
}

type Headers = ReturnType<typeof parseHeaders>;

function parseHeaders(request: IncomingMessage) {
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  if (header("neon-raw-text-output") !== "true")
    throw new HttpError(400, "this local stand-in answers only Neon-Raw-Text-Output: true");
  const isolationLevel = header("neon-batch-isolation-level");
  if (isolationLevel !== undefined && !Object.hasOwn(isolationLevels, isolationLevel))
    throw new HttpError(400, "invalid isolation level");
  return {
    arrayMode: header("neon-array-mode") === "true",
    isolationLevel,
    readOnly: header("neon-batch-read-only") === "true",
    deferrable: header("neon-batch-deferrable") === "true",
  };
}

function parseConnectionString(value: string | string[] | undefined): URL {
  if (typeof value !== "string") throw new HttpError(400, "invalid header: neon-connection-string");
  if (!URL.canParse(value)) throw new HttpError(400, "invalid connection string");
  const url = new URL(value);
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:")
    throw new HttpError(400, "incorrect scheme");
  if (url.pathname.length <= 1) throw new HttpError(400, "missing database name");
  if (!url.username) throw new HttpError(400, "missing username");
  if (!url.password) throw new HttpError(400, "missing authentication credentials: required password");
  return url;
}

function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, `request is too large (max is ${limit} bytes)`);
  return new Promise((resolve, reject) => {
    if (Number(request.headers["content-length"]) > limit) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Answered now; node discards the rest of the body once the response is sent.
        request.removeAllListeners("data");
        reject(tooLarge());
      } else chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function parsePayload(body: Buffer): Statement | Statement[] {
  let payload: unknown;
  try {
    payload = JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new HttpError(400, `could not parse the HTTP request body: ${(error as Error).message}`);
  }
  const queries = (payload as { queries?: unknown } | null)?.queries;
  if (Array.isArray(queries)) return queries.map(toStatement);
  return toStatement(payload);
}

function toStatement(value: unknown): Statement {
  const { query, params, arrayMode } = (value ?? {}) as Record<string, unknown>;
  if (typeof query !== "string" || (params !== undefined && !Array.isArray(params)))
    throw new HttpError(400, "could not parse the HTTP request body: expected {query, params} or {queries}");
  return {
    query,
    // Neon turns any other JSON value into its text; the driver sends only text and null.
    params: (params ?? []).map((p) => (typeof p === "string" || p === null ? p : JSON.stringify(p))),
    arrayMode: typeof arrayMode === "boolean" ? arrayMode : undefined,
  };
}

// The keys the driver copies onto its NeonDbError (its `errorFields`).
const errorFields = (
  "code detail hint position internalPosition internalQuery severity where table column schema dataType " +
  "constraint file line routine"
).split(" ");

/** Neon's error body: every key present, `code`/`severity` empty when PostgreSQL gave none. */
function errorAnswer(error: unknown): [number, Record<string, string | null>] {
  const db = error instanceof pg.DatabaseError ? error : undefined;
  const body: Record<string, string | null> = {
    message: error instanceof Error ? error.message : String(error),
  };
  for (const key of errorFields) {
    const value = (db as Record<string, unknown> | undefined)?.[key];
    body[key] = typeof value === "string" ? value : key === "code" || key === "severity" ? "" : null;
  }
  if (db) return [400, body];
  if (error instanceof HttpError) return [error.status, body];
  // PostgreSQL unreachable, or the connection lost with no SQLSTATE: the driver's
  // "Server error (HTTP status 500)", which the app counts as the database being unavailable.
  return [500, body];
}

function send(response: ServerResponse, status: number, json: string) {
  if (response.headersSent) return;
  response.writeHead(status, { "Content-Type": "application/json", "Access-Control-Allow-Origin": "*" });
  response.end(json);
}
