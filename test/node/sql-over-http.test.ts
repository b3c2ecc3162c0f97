// The local bridge's `POST /sql`, driven by the Neon driver's own `neon()` (its HTTP path), so
// every assertion is what the driver makes of the answer; and the WebSocket bridge on that port.
import { spawn } from "node:child_process";
import path from "node:path";
import { Client, NeonDbError, neon, neonConfig } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DbProxy, type DbProxyOptions, startDbProxy } from "../../scripts/local/db-proxy.ts";
import { freePort } from "../../scripts/local/embedded-postgres.ts";
import { routeThroughLocalProxy } from "../../src/db/client.ts";
import { toDomainError } from "../../src/errors/to-domain-error.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-database.ts";

const saved = { fetchEndpoint: neonConfig.fetchEndpoint, wsProxy: neonConfig.wsProxy };
let database: TestDatabase;
let bridge: DbProxy;
const endpoint = (proxy: DbProxy) => `http://127.0.0.1:${proxy.port}/sql`;

/** The error `run` rejects with. */
async function failure(run: () => Promise<unknown>): Promise<NeonDbError> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(NeonDbError);
  return error as NeonDbError;
}

/** The file's database URL with some parts changed. */
const withUrl = (parts: Partial<Pick<URL, "password" | "pathname">>) =>
  Object.assign(new URL(database.url), parts).toString();

/** Runs `use` with neon() sent to a bridge of its own, closed afterwards. */
async function throughOwnBridge<T>(options: Partial<DbProxyOptions>, use: () => Promise<T>): Promise<T> {
  const target = new URL(database.url);
  const own = await startDbProxy({
    targetHost: target.hostname,
    targetPort: Number(target.port),
    ...options,
  });
  neonConfig.fetchEndpoint = endpoint(own);
  try {
    return await use();
  } finally {
    neonConfig.fetchEndpoint = endpoint(bridge);
    await own.close();
  }
}

beforeAll(async () => {
  database = await createTestDatabase({ empty: true });
  const target = new URL(database.url);
  bridge = await startDbProxy({ targetHost: target.hostname, targetPort: Number(target.port) });
  neonConfig.fetchEndpoint = endpoint(bridge);
  const sql = neon(database.url);
  await sql.query("CREATE TABLE items (id int PRIMARY KEY, name text CONSTRAINT items_name_key UNIQUE)");
});

afterAll(async () => {
  await database?.drop();
  await bridge?.close();
  neonConfig.fetchEndpoint = saved.fetchEndpoint;
  neonConfig.wsProxy = saved.wsProxy;
});

const typed = {
  text: `SELECT $1::int4 AS i4, $2::int8 AS i8, $3::numeric AS num, $4::float8 AS f8, $5::bool AS b,
    $6::jsonb AS j, $7::timestamptz AS ts, $8::text[] AS arr, $9::bytea AS bin, $10::text AS uni,
    NULL::int4 AS n_int, NULL::jsonb AS n_json, $11::text AS n_param, '2026-03-04'::date AS d`,
  params: [
    42,
    "9007199254740993",
    "12345678901234567890.0100",
    1.5,
    true,
    { a: [1, "x"], b: null },
    new Date("2026-01-02T03:04:05.678Z"),
    ["a", "b,c", 'q"uote', null],
    Buffer.from([0, 1, 254, 255]),
    "héllo 👋 世界 \u0001",
    null,
  ],
};

describe("POST /sql through neon()", () => {
  it("returns what the server holds, parsed by type as the driver does for Neon", async () => {
    const [row] = await neon(database.url).query(typed.text, typed.params);
    expect(row).toMatchObject({
      i4: 42,
      i8: "9007199254740993",
      num: "12345678901234567890.0100",
      f8: 1.5,
      b: true,
      j: { a: [1, "x"], b: null },
      arr: ["a", "b,c", 'q"uote', null],
      uni: "héllo 👋 世界 \u0001",
      n_int: null,
      n_json: null,
      n_param: null,
    });
    expect(row?.ts).toBeInstanceOf(Date);
    expect((row?.ts as Date).toISOString()).toBe("2026-01-02T03:04:05.678Z");
    expect(row?.d).toBeInstanceOf(Date);
    expect(Array.from(row?.bin as Uint8Array)).toEqual([0, 1, 254, 255]);
  });

  it("answers exactly what the WebSocket bridge on the same port answers", async () => {
    routeThroughLocalProxy(`127.0.0.1:${bridge.port}`);
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      const viaWebSocket = await client.query(typed.text, typed.params);
      const viaHttp = await neon(database.url).query(typed.text, typed.params);
      expect(viaHttp).toEqual(viaWebSocket.rows);
    } finally {
      await client.end();
    }
  });

  it("reports command and rowCount, and the fields, with fullResults", async () => {
    const sql = neon(database.url, { fullResults: true });
    const insert = await sql.query("INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    expect(insert).toMatchObject({ command: "INSERT", rowCount: 3, rows: [] });
    expect(await sql.query("UPDATE items SET name = name || '!' WHERE id < $1", [3])).toMatchObject({
      command: "UPDATE",
      rowCount: 2,
    });
    const select = await sql.query("SELECT id, name FROM items ORDER BY id");
    expect(select).toMatchObject({ command: "SELECT", rowCount: 3 });
    expect(select.rows).toEqual([
      { id: 1, name: "a!" },
      { id: 2, name: "b!" },
      { id: 3, name: "c" },
    ]);
    expect(select.fields.map((f) => [f.name, f.dataTypeID, f.format])).toEqual([
      ["id", 23, "text"],
      ["name", 25, "text"],
    ]);
    expect(select.fields[0]?.tableID).toBeGreaterThan(0);
    expect(await sql.query("DELETE FROM items WHERE id = 3")).toMatchObject({
      command: "DELETE",
      rowCount: 1,
    });
    expect(await sql.query("CREATE TABLE created_here (x int)")).toMatchObject({
      command: "CREATE",
      rowCount: null,
    });
  });

  it("turns PostgreSQL errors into NeonDbErrors with their SQLSTATE and fields", async () => {
    const sql = neon(database.url);
    const missing = await failure(() => sql.query("SELECT * FROM no_such_table"));
    expect(missing).toMatchObject({ code: "42P01", severity: "ERROR", position: "15" });
    await sql.query("INSERT INTO items VALUES (10, 'dup') ON CONFLICT DO NOTHING");
    const duplicate = await failure(() => sql.query("INSERT INTO items VALUES (11, $1)", ["dup"]));
    expect(duplicate).toMatchObject({ code: "23505", constraint: "items_name_key", table: "items" });
    expect(duplicate.detail).toContain("already exists");
    expect((await failure(() => sql.query("SELECT $1::int", ["abc"]))).code).toBe("22P02");
    // Neon runs each query as one unnamed prepared statement: one command only.
    expect((await failure(() => sql.query("SELECT 1; SELECT 2"))).code).toBe("42601");
  });

  it("does not hand a transaction a single query left open to the next request", async () => {
    const sql = neon(database.url);
    expect(await sql.query("BEGIN", [], { fullResults: true })).toMatchObject({ command: "BEGIN" });
    await new Promise((resolve) => setTimeout(resolve, 300));
    // In a transaction left open, now() would be the time of that BEGIN.
    const rows = await Promise.all(
      Array.from({ length: 12 }, () =>
        sql.query("SELECT now() > clock_timestamp() - interval '200 milliseconds' AS fresh"),
      ),
    );
    expect(rows.map(([row]) => row?.fresh)).toEqual(Array(12).fill(true));
  });
});

describe("sql.transaction()", () => {
  it("is all or nothing, and later statements see earlier writes", async () => {
    const sql = neon(database.url);
    const error = await failure(() =>
      sql.transaction([
        sql`INSERT INTO items VALUES (20, 'first')`,
        sql`INSERT INTO items VALUES (20, 'again')`,
      ]),
    );
    expect(error.code).toBe("23505");
    expect(await sql`SELECT count(*)::int AS n FROM items WHERE id = 20`).toEqual([{ n: 0 }]);
    const [inserted, counted] = await sql.transaction([
      sql`INSERT INTO items VALUES (21, 'seen') RETURNING id`,
      sql`SELECT name FROM items WHERE id = 21`,
    ]);
    expect(inserted).toEqual([{ id: 21 }]);
    expect(counted).toEqual([{ name: "seen" }]);
  });

  it("applies the isolation, read-only and deferrable options, and the database default without", async () => {
    const sql = neon(database.url);
    const show = () => [
      sql`SHOW transaction_isolation`,
      sql`SHOW transaction_read_only`,
      sql`SHOW transaction_deferrable`,
    ];
    const options = { isolationLevel: "Serializable", readOnly: true, deferrable: true } as const;
    expect((await sql.transaction(show(), options)).flat()).toEqual([
      { transaction_isolation: "serializable" },
      { transaction_read_only: "on" },
      { transaction_deferrable: "on" },
    ]);
    expect((await sql.transaction(show(), { isolationLevel: "RepeatableRead" })).flat()).toEqual([
      { transaction_isolation: "repeatable read" },
      { transaction_read_only: "off" },
      { transaction_deferrable: "off" },
    ]);
    expect((await sql.transaction(show())).flat()[0]).toEqual({ transaction_isolation: "read committed" });
    const readOnlyWrite = await failure(() =>
      sql.transaction([sql`INSERT INTO items VALUES (30, 'ro')`], { readOnly: true }),
    );
    expect(readOnlyWrite.code).toBe("25006");
    const invalid = await failure(() => sql.transaction(show(), { isolationLevel: "Chaos" as never }));
    expect(invalid.message).toBe("invalid isolation level");
  });
});

describe("connections", () => {
  it("serves 20 requests at once over at most 10 warm connections, reused by the next 20", async () => {
    const sql = neon(database.url);
    const round = () =>
      Promise.all(
        Array.from({ length: 20 }, () =>
          sql.query(`SELECT pg_backend_pid() AS pid, pg_sleep(0.05)::text AS slept,
            (SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database()) AS backends`),
        ),
      );
    const first = (await round()).map(([row]) => row as { pid: number; backends: number });
    const second = (await round()).map(([row]) => row as { pid: number; backends: number });
    const firstPids = new Set(first.map((r) => r.pid));
    expect(firstPids.size).toBeLessThanOrEqual(10);
    expect(Math.max(...first.map((r) => r.backends), ...second.map((r) => r.backends))).toBeLessThanOrEqual(
      10,
    );
    for (const { pid } of second) expect(firstPids.has(pid)).toBe(true);
  });

  it("answers a connection killed mid-query with its SQLSTATE, then serves the next query", async () => {
    const sql = neon(database.url);
    const sleeping = failure(() => sql.query("SELECT pg_sleep(5) /* lh-kill-me */"));
    let terminated = false;
    for (let i = 0; i < 100 && !terminated; i++) {
      const [row] = await sql.query(`SELECT bool_or(pg_terminate_backend(pid)) AS done FROM pg_stat_activity
        WHERE query LIKE '%lh-kill-me */' AND pid <> pg_backend_pid()`);
      terminated = row?.done === true;
    }
    expect((await sleeping).code).toBe("57P01");
    expect(await sql`SELECT 1 AS one`).toEqual([{ one: 1 }]);
  });

  it("refuses bad credentials with the server's error", async () => {
    const attempt = (url: string) => failure(() => neon(url).query("SELECT 1"));
    expect((await attempt(withUrl({ password: "not-the-password" }))).code).toBe("28P01");
    expect((await attempt(withUrl({ pathname: "/lh_no_such_database" }))).code).toBe("3D000");
    expect((await attempt(withUrl({ password: "" }))).message).toMatch(/required password/);
  });

  it("survives a database dropped under its warm connections", async () => {
    const other = await createTestDatabase({ empty: true });
    const sql = neon(other.url);
    await Promise.all(Array.from({ length: 4 }, () => sql.query("SELECT pg_sleep(0.02)::text")));
    await other.drop();
    let code: string | undefined;
    for (let i = 0; i < 20 && code !== "3D000"; i++) code = (await failure(() => sql.query("SELECT 1"))).code;
    expect(code).toBe("3D000");
    expect(await neon(database.url)`SELECT 2 AS two`).toEqual([{ two: 2 }]);
  });

  it("reports PostgreSQL being unreachable as a server error the app counts as unavailable", async () => {
    const error = await throughOwnBridge({ targetPort: await freePort() }, () =>
      failure(() => neon(database.url).query("SELECT 1")),
    );
    expect(error.message).toMatch(/^Server error \(HTTP status 500\)/);
    expect(error.code).toBeUndefined();
    expect(toDomainError(error)?.code).toBe("db_unavailable");
  });

  it("ends its connections on close()", async () => {
    const alive = (pids: number[]) =>
      neon(database.url).query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY($1::int[])", [
        pids,
      ]);
    const pids = await throughOwnBridge({}, async () => {
      const rows = await Promise.all(
        Array.from({ length: 3 }, () =>
          neon(database.url).query("SELECT pg_backend_pid() AS pid, pg_sleep(0.05)"),
        ),
      );
      const pids = [...new Set(rows.map(([row]) => row?.pid as number))];
      expect(pids).toHaveLength(3);
      expect(await alive(pids)).toEqual([{ n: 3 }]);
      return pids;
    });
    // A backend leaves pg_stat_activity a moment after its socket closes.
    let left = await alive(pids);
    for (let i = 0; i < 20 && left[0]?.n !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      left = await alive(pids);
    }
    expect(left).toEqual([{ n: 0 }]);
  });
});

describe("sizes and malformed requests", () => {
  it("answers a 5 MB value and a 5 MB result of many rows, and takes a 5 MB parameter", async () => {
    const sql = neon(database.url);
    const [big] = await sql.query("SELECT repeat('x', 5 * 1024 * 1024) AS big");
    expect((big?.big as string).length).toBe(5 * 1024 * 1024);
    const rows = await sql.query("SELECT g AS n, md5(g::text) AS h FROM generate_series(1, 100000) g");
    expect(rows).toHaveLength(100_000);
    expect(rows[99_999]).toEqual({ n: 100_000, h: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(await sql.query("SELECT length($1) AS n", ["y".repeat(5 * 1024 * 1024)])).toEqual([
      { n: 5 * 1024 * 1024 },
    ]);
  });

  it("refuses a request body over 64 MB with 413", async () => {
    const error = await failure(() =>
      neon(database.url).query("SELECT length($1)", ["z".repeat(64 * 1024 * 1024)]),
    );
    expect(error.message).toMatch(/^Server error \(HTTP status 413\).*request is too large/);
  });

  it("refuses a response over its limit with 507, as Neon does", async () => {
    await throughOwnBridge({ sqlOverHttp: { maxResponseBytes: 10_000 } }, async () => {
      expect(await neon(database.url).query("SELECT repeat('x', 5000) AS x")).toHaveLength(1);
      const error = await failure(() => neon(database.url).query("SELECT repeat('x', 20000)"));
      expect(error.message).toMatch(/^Server error \(HTTP status 507\)/);
    });
  });

  it("answers a malformed request with 400 and a message", async () => {
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(endpoint(bridge), {
        method: "POST",
        body,
        headers: { "Neon-Connection-String": database.url, "Neon-Raw-Text-Output": "true", ...headers },
      });
    for (const body of ["not json", "{}", '{"query": 1}', '{"queries": [{"params": []}]}']) {
      const response = await post(body);
      expect(response.status, body).toBe(400);
      expect(((await response.json()) as { message: string }).message).toMatch(/could not parse/);
    }
    const noHeader = await post('{"query":"SELECT 1"}', { "Neon-Connection-String": "" });
    expect(noHeader.status).toBe(400);
    const elsewhere = await fetch(`http://127.0.0.1:${bridge.port}/other`);
    expect(elsewhere.status).toBe(404);
  });
});

describe("db-proxy-main", () => {
  it("prints only its port on stdout, never SQL or parameters", async () => {
    const target = new URL(database.url);
    const root = path.resolve(import.meta.dirname, "../..");
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "scripts/local/db-proxy-main.ts", target.hostname, target.port],
      { cwd: root, stdio: ["pipe", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on("data", (chunk) => {
        stdout += chunk;
        if (stdout.includes("\n"))
          resolve((JSON.parse(stdout.split("\n")[0] as string) as { port: number }).port);
      });
      child.once("exit", (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    neonConfig.fetchEndpoint = `http://127.0.0.1:${port}/sql`;
    try {
      const sql = neon(database.url);
      expect(await sql.query("SELECT $1::text AS secret", ["lh-secret-param"])).toEqual([
        { secret: "lh-secret-param" },
      ]);
      expect((await failure(() => sql.query("SELECT lh_secret_sql($1)", ["lh-secret-param"]))).code).toBe(
        "42883",
      );
    } finally {
      neonConfig.fetchEndpoint = endpoint(bridge);
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.stdin.end();
      await exited;
    }
    expect(stdout).toBe(`{"port":${port}}\n`);
    expect(stderr).not.toMatch(/lh-secret|lh_secret/);
  });
});
