// Runs the SpiceDB JSON server (spicedb-json-server.ts) as a child process in a process group
// of its own, killed as a group: an embedded SpiceDB can take seconds to close.
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";

const root = path.resolve(import.meta.dirname, "../..");

export interface SpiceDbJsonProcess {
  child: ChildProcess;
  url: string;
  token: string;
  stop(): void;
}

export async function startSpiceDbJsonProcess(token: string, port = 0): Promise<SpiceDbJsonProcess> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(root, "scripts/local/spicedb-json-server.ts"),
      "--port",
      String(port),
      "--token",
      token,
    ],
    { cwd: root, detached: true, stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  const line = await Promise.race([
    lines.next().then((next) => String(next.value)),
    new Promise<never>((_, reject) =>
      child.once("exit", (code) => reject(new Error(`SpiceDB JSON server exited (${code})`))),
    ),
  ]);
  const listening = /listening on (\d+)/.exec(line)?.[1];
  if (!listening) throw new Error(`SpiceDB JSON server: unexpected output ${line}`);
  return {
    child,
    url: `http://127.0.0.1:${listening}`,
    token,
    stop() {
      if (!child.pid) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    },
  };
}
