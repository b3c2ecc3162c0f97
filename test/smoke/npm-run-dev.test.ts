// The README's first command, for real: `npm run dev` in a fresh copy of the project (its own
// .data and .dev.vars, node_modules shared), under a 0700 directory as a root checkout may be.
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/local/embedded-postgres.ts";

const root = path.resolve(import.meta.dirname, "../..");
const projectFiles = ["package.json", "wrangler.toml", "tsconfig.json", "src", "drizzle", "scripts"];

describe("npm run dev", () => {
  let dir: string;
  let dev: ChildProcess;
  let output = "";
  let baseUrl: string;
  const adminToken = "adm_smoke_0123456789abcdef0123456789";

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "leasehold-dev-"));
    chmodSync(dir, 0o700);
    for (const entry of projectFiles)
      cpSync(path.join(root, entry), path.join(dir, entry), { recursive: true });
    symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    dev = spawn("npm", ["run", "dev"], {
      cwd: dir,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PORT: String(port), ADMIN_TOKEN: adminToken },
    });
    dev.stdout?.on("data", (chunk) => (output += chunk));
    dev.stderr?.on("data", (chunk) => (output += chunk));
    const deadline = Date.now() + 110_000;
    while (!output.includes("leasehold is running") && Date.now() < deadline && dev.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    if (!output.includes("leasehold is running")) throw new Error(`npm run dev did not start:\n${output}`);
  });

  afterAll(async () => {
    if (dev?.pid && dev.exitCode === null) {
      try {
        process.kill(-dev.pid, "SIGKILL");
      } catch {}
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints the URL, the admin token from the environment and a working demo key", async () => {
    expect(output).toContain(`leasehold is running at ${baseUrl}`);
    expect(output).toContain(adminToken);
    expect((await fetch(`${baseUrl}/health`)).status).toBe(200);
    const key = /demo API key\s+(lh_\S+)/.exec(output)?.[1];
    expect(key).toBeDefined();
    const me = await fetch(`${baseUrl}/v1/principal`, { headers: { authorization: `Bearer ${key}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: "demo-admin", role: "admin" });
    const account = await fetch(`${baseUrl}/v1/admin/accounts`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "from-smoke" }),
    });
    expect(account.status).toBe(201);
  });

  it("keeps the admin token in .dev.vars", async () => {
    const { readFileSync } = await import("node:fs");
    expect(readFileSync(path.join(dir, ".dev.vars"), "utf8")).toContain(`ADMIN_TOKEN="${adminToken}"`);
  });

  it("stops everything it started on Ctrl-C", async () => {
    process.kill(-(dev.pid as number), "SIGINT");
    const deadline = Date.now() + 30_000;
    let serving = true;
    while (
      Date.now() < deadline &&
      (serving || existsSync(path.join(dir, ".data/postgres/postmaster.pid")))
    ) {
      serving = await fetch(`${baseUrl}/health`).then(
        () => true,
        () => false,
      );
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(serving).toBe(false);
    expect(existsSync(path.join(dir, ".data/postgres/postmaster.pid"))).toBe(false);
  });
});
