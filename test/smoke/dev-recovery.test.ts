// `npm run dev` after an unclean exit: a PostgreSQL of ours left running on .data/, a stale pid
// file, a port taken, a data directory that is not one. Each either recovers or ends with one
// readable line naming the cause and the fix.
import { mkdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startEmbeddedPostgres } from "../../scripts/local/embedded-postgres.ts";
import { copyProject, runDev } from "../support/dev-launcher.ts";

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("npm run dev after an unclean exit", () => {
  let project: ReturnType<typeof copyProject>;
  const env = (port: number) => ({ PORT: String(port), ADMIN_TOKEN: "adm_recovery_0123456789abcdef0123" });
  const failureLine = (output: string) => output.split("\n").find((line) => line.startsWith("[dev] failed:"));

  beforeAll(() => {
    project = copyProject();
  });
  afterAll(() => project?.remove());

  it("stops a PostgreSQL of ours still running on .data/ and starts", async () => {
    // What a killed launcher leaves behind: its server still running on the data directory.
    const leftover = await startEmbeddedPostgres({
      dataDir: path.join(project.dir, ".data/postgres"),
      persistent: true,
    });
    const port = await freePort();
    const dev = runDev(project.dir, env(port));
    try {
      expect(await dev.started(), dev.output()).toBe(true);
      expect(dev.output()).toMatch(
        /stopped PostgreSQL \(pid \d+, port \d+\) left running on \.data\/postgres/,
      );
      expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);
      // It was that server (by its port) that was stopped, and it no longer listens.
      expect(dev.output()).toContain(`port ${leftover.port}) left running`);
      expect(await listening(leftover.port)).toBe(false);
    } finally {
      await dev.stop();
    }
  });

  it("removes a pid file that names a process other than its server, and starts", async () => {
    // After a reboot the pid in postmaster.pid may belong to any process: here, this test's own.
    writeFileSync(
      path.join(project.dir, ".data/postgres/postmaster.pid"),
      `${process.pid}\n${path.join(project.dir, ".data/postgres")}\n0\n5432\n`,
    );
    const port = await freePort();
    const dev = runDev(project.dir, env(port));
    try {
      expect(await dev.started(), dev.output()).toBe(true);
      expect(dev.output()).toContain("removed a stale .data/postgres/postmaster.pid");
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    } finally {
      await dev.stop();
    }
  });

  it("names a taken port and the fix, and exits 1", async () => {
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
    try {
      const dev = runDev(project.dir, env(port));
      expect(await dev.exited()).toBe(1);
      expect(failureLine(dev.output())).toBe(
        `[dev] failed: Port ${port} is in use (another npm run dev or wrangler dev?). Fix: stop that process, or choose another port with PORT=8788 npm run dev.`,
      );
    } finally {
      blocker.close();
    }
  });

  it("names a data directory that is not one and the fix, and exits 1", async () => {
    const broken = copyProject();
    try {
      mkdirSync(path.join(broken.dir, ".data/postgres"), { recursive: true });
      writeFileSync(path.join(broken.dir, ".data/postgres/notes.txt"), "not a cluster");
      const dev = runDev(broken.dir, env(await freePort()));
      expect(await dev.exited()).toBe(1);
      const line = failureLine(dev.output());
      expect(line).toContain("is not a PostgreSQL data directory. Fix: delete");
      expect(dev.output()).not.toContain("undefined");
    } finally {
      broken.remove();
    }
  });
});
