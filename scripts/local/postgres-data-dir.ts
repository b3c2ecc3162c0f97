// What an embedded PostgreSQL data directory holds before a server starts on it, and how to make
// it startable after an unclean exit: a server of ours still running on it is stopped; a pid file
// naming a process that is not that server is removed. Anything else is a readable failure.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";

export type DataDirState =
  | { kind: "absent" }
  | { kind: "stopped" }
  | { kind: "running"; pid: number; port: number | undefined }
  | { kind: "stale_pid_file"; pid: number | undefined }
  | { kind: "not_a_data_dir" };

/** A failure of the dev launcher whose message says what is wrong and how to fix it. */
export class LocalSetupError extends Error {
  constructor(cause: string, fix: string) {
    super(`${cause} Fix: ${fix}`);
    this.name = "LocalSetupError";
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive but someone else's.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The command line of a process, or undefined when it cannot be read. */
function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {}
  try {
    return execFileSync("ps", ["-p", String(pid), "-o", "command="], { encoding: "utf8" });
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a postmaster serving this data directory. */
function servesDataDir(pid: number, dataDir: string): boolean {
  if (!isAlive(pid)) return false;
  const command = commandLine(pid);
  if (command === undefined) return true; // alive and unreadable: assume it is the server
  return /postgres/.test(command) && command.includes(path.resolve(dataDir));
}

export function inspectDataDir(dataDir: string): DataDirState {
  if (!existsSync(dataDir) || readdirSync(dataDir).length === 0) return { kind: "absent" };
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) return { kind: "not_a_data_dir" };
  const pidFile = path.join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return { kind: "stopped" };
  // postmaster.pid: line 1 the pid, line 4 the port (PostgreSQL's documented layout).
  const lines = readFileSync(pidFile, "utf8").split("\n");
  const pid = Number.parseInt(lines[0] ?? "", 10);
  const port = Number.parseInt(lines[3] ?? "", 10);
  if (!Number.isInteger(pid) || pid <= 0) return { kind: "stale_pid_file", pid: undefined };
  if (!servesDataDir(pid, dataDir)) return { kind: "stale_pid_file", pid };
  return { kind: "running", pid, port: Number.isInteger(port) ? port : undefined };
}

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return !isAlive(pid);
}

/**
 * Makes the data directory startable: stops a server of ours left running on it (fast shutdown,
 * then immediate), removes a stale pid file. Returns what it did, for the launcher to say.
 */
export async function recoverDataDir(dataDir: string): Promise<string | undefined> {
  const state = inspectDataDir(dataDir);
  const shown = path.relative(process.cwd(), dataDir) || dataDir;
  switch (state.kind) {
    case "absent":
    case "stopped":
      return undefined;
    case "not_a_data_dir":
      throw new LocalSetupError(
        `${shown} exists but is not a PostgreSQL data directory.`,
        `delete ${shown} (or the whole .data/) to start from scratch.`,
      );
    case "stale_pid_file":
      rmSync(path.join(dataDir, "postmaster.pid"), { force: true });
      return `removed a stale ${shown}/postmaster.pid (pid ${state.pid ?? "unreadable"} is not its server)`;
    case "running": {
      try {
        process.kill(state.pid, "SIGINT"); // fast shutdown: ends sessions, writes a checkpoint
        if (!(await waitForExit(state.pid, 30_000))) {
          process.kill(state.pid, "SIGQUIT"); // immediate shutdown; recovery runs at the next start
          await waitForExit(state.pid, 10_000);
        }
      } catch (error) {
        throw new LocalSetupError(
          `PostgreSQL (pid ${state.pid}) is still running on ${shown} and could not be stopped (${(error as Error).message}).`,
          `stop it yourself (kill ${state.pid}) and run npm run dev again.`,
        );
      }
      if (isAlive(state.pid)) {
        throw new LocalSetupError(
          `PostgreSQL (pid ${state.pid}) is still running on ${shown} and did not stop within 40 s.`,
          `stop it yourself (kill -9 ${state.pid}) and run npm run dev again.`,
        );
      }
      return `stopped PostgreSQL (pid ${state.pid}${state.port ? `, port ${state.port}` : ""}) left running on ${shown} by an earlier run`;
    }
  }
}

/** PostgreSQL's last FATAL/PANIC/ERROR line, turned into a cause and a fix. */
export function explainStartFailure(logLines: string[], dataDir: string, port: number): LocalSetupError {
  const shown = path.relative(process.cwd(), dataDir) || dataDir;
  const last =
    logLines
      .flatMap((chunk) => chunk.split("\n"))
      .filter((line) => /\b(FATAL|PANIC|ERROR)\b/.test(line))
      .at(-1)
      ?.trim() ?? "";
  const said = last ? ` PostgreSQL said: ${last}` : " PostgreSQL exited without saying why.";
  if (/lock file .* already exists/i.test(last))
    return new LocalSetupError(
      `Another PostgreSQL is using ${shown}.${said}`,
      "stop it, or delete its postmaster.pid if no such process runs.",
    );
  if (/could not bind|address already in use/i.test(last))
    return new LocalSetupError(
      `Port ${port} is taken.${said}`,
      "unset LEASEHOLD_PG_PORT (a free port is chosen) or set it to a free port.",
    );
  if (/incompatible|initialized by PG_VERSION|database files are/i.test(last))
    return new LocalSetupError(
      `${shown} was made by another PostgreSQL version.${said}`,
      `delete ${shown} (or the whole .data/) to start from scratch.`,
    );
  if (/permission denied/i.test(last))
    return new LocalSetupError(
      `PostgreSQL cannot read or write ${shown}.${said}`,
      `give the user running PostgreSQL access to ${shown}, or delete .data/ to start from scratch.`,
    );
  return new LocalSetupError(
    `PostgreSQL did not start on ${shown}.${said}`,
    "read the lines above; deleting .data/ starts from scratch.",
  );
}

/** A one-line description of any thrown value, never `undefined`. */
export function describeFailure(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (error === undefined || error === null) return "an unknown error (nothing was thrown with it)";
  if (typeof error === "string") return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}
