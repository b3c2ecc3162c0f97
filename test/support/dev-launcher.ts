// Runs the README's `npm run dev` for real, in a fresh copy of the project (its own .data and
// .dev.vars, node_modules shared), under a 0700 directory as a root checkout may be.
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
const projectFiles = ["package.json", "wrangler.toml", "tsconfig.json", "src", "drizzle", "scripts"];

export function copyProject(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "leasehold-dev-"));
  chmodSync(dir, 0o700);
  for (const entry of projectFiles)
    cpSync(path.join(root, entry), path.join(dir, entry), { recursive: true });
  symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface DevRun {
  process: ChildProcess;
  output(): string;
  /** Resolves when the launcher printed its banner (true) or exited (false); rejects on timeout. */
  started(): Promise<boolean>;
  /** Resolves with the exit code. */
  exited(): Promise<number | null>;
  /** Ctrl-C for the whole group, then waits for the launcher and its PostgreSQL to exit. */
  stop(): Promise<void>;
  kill(): void;
}

export function runDev(dir: string, env: Record<string, string>): DevRun {
  let output = "";
  const child = spawn("npm", ["run", "dev"], {
    cwd: dir,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const signal = (name: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, name);
    } catch {}
  };
  return {
    process: child,
    output: () => output,
    async started() {
      const deadline = Date.now() + 110_000;
      while (Date.now() < deadline) {
        if (output.includes("leasehold is running")) return true;
        if (child.exitCode !== null) return false;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      throw new Error(`npm run dev neither started nor exited:\n${output}`);
    },
    exited: () => exit,
    async stop() {
      if (child.exitCode === null) {
        signal("SIGINT");
        await exit;
      }
      // npm exits on Ctrl-C before the launcher has stopped PostgreSQL: wait for the server to
      // remove its pid file, so the next run does not race its shutdown (slow on a loaded machine).
      const pidFile = path.join(dir, ".data/postgres/postmaster.pid");
      for (const deadline = Date.now() + 60_000; existsSync(pidFile) && Date.now() < deadline; )
        await new Promise((resolve) => setTimeout(resolve, 100));
    },
    kill: () => signal("SIGKILL"),
  };
}
