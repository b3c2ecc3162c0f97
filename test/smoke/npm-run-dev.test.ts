// The README's first command, for real: `npm run dev` in a fresh copy of the project.
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/local/embedded-postgres.ts";
import { copyProject, type DevRun, runDev } from "../support/dev-launcher.ts";

describe("npm run dev", () => {
  let project: ReturnType<typeof copyProject>;
  let dir: string;
  let dev: DevRun;
  let output = "";
  let baseUrl: string;
  const adminToken = "adm_smoke_0123456789abcdef0123456789";

  beforeAll(async () => {
    project = copyProject();
    dir = project.dir;
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    dev = runDev(dir, { PORT: String(port), ADMIN_TOKEN: adminToken });
    const started = await dev.started();
    output = dev.output();
    if (!started) throw new Error(`npm run dev did not start:\n${output}`);
  });

  afterAll(async () => {
    dev?.kill();
    project?.remove();
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
    process.kill(-(dev.process.pid as number), "SIGINT");
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
