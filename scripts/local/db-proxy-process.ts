// Runs the local bridge (WebSocket and `/sql`) as a child process of its own, so its work does not compete
// with the caller's event loop (tests, benchmarks).
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";

const root = path.resolve(import.meta.dirname, "../..");

export interface ProxyProcess {
  child: ChildProcess;
  port: number;
  /** `host:port`, as DATABASE_WS_PROXY takes it. */
  address: string;
  stop(): void;
}

export async function startProxyProcess(host: string, port: number): Promise<ProxyProcess> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(root, "scripts/local/db-proxy-main.ts"), host, String(port)],
    { cwd: root, detached: true, stdio: ["pipe", "pipe", "inherit"] },
  );
  const [line] = await Promise.race([
    createInterface({ input: child.stdout as NodeJS.ReadableStream })
      [Symbol.asyncIterator]()
      .next()
      .then((r) => [r.value]),
    new Promise<never>((_, reject) =>
      child.once("exit", (code) => reject(new Error(`db proxy exited (${code})`))),
    ),
  ]);
  const listening = (JSON.parse(String(line)) as { port: number }).port;
  return {
    child,
    port: listening,
    address: `127.0.0.1:${listening}`,
    stop() {
      if (!child.pid) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    },
  };
}
