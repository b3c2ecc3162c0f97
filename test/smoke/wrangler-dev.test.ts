// Boots `wrangler dev` (the same bundling, workerd and bindings a developer gets) and drives it
// over real HTTP: liveness, readiness against the database, the admin flow, the cron endpoint.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unstable_startWorker } from "wrangler";
import { randomHex } from "../../src/lib/crypto.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-database.ts";

type Worker = Awaited<ReturnType<typeof unstable_startWorker>>;

describe("wrangler dev", () => {
  let database: TestDatabase;
  let worker: Worker;
  let baseUrl: string;
  const adminToken = `adm_${randomHex(24)}`;

  beforeAll(async () => {
    database = await createTestDatabase();
    const vars = {
      DATABASE_URL: database.url,
      DATABASE_WS_PROXY: database.proxy ?? "",
      ADMIN_TOKEN: adminToken,
      ENVIRONMENT: "test",
      // Explicit, so a local .dev.vars from `AUTHZ_BACKEND=spicedb npm run dev` can't leak in.
      AUTHZ_BACKEND: "postgres",
    };
    worker = await unstable_startWorker({
      config: "wrangler.toml",
      bindings: Object.fromEntries(
        Object.entries(vars).map(([name, value]) => [name, { type: "plain_text" as const, value }]),
      ),
      dev: {
        server: { hostname: "127.0.0.1", port: 0 },
        inspector: false,
        watch: false,
        testScheduled: true,
      },
    });
    baseUrl = (await worker.url).toString().replace(/\/$/, "");
  });
  afterAll(async () => {
    await worker?.dispose();
    await database?.drop();
  });

  const call = (path: string, init: RequestInit = {}) => fetch(`${baseUrl}${path}`, init);
  const json = (token: string, body: unknown): RequestInit => ({
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

  it("answers /health and /ready", async () => {
    expect((await call("/health")).status).toBe(200);
    const ready = await call("/ready");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready" });
  });

  it("issues, uses and revokes an API key over HTTP", async () => {
    const account = (await (
      await call("/v1/admin/accounts", json(adminToken, { name: "smoke" }))
    ).json()) as {
      id: string;
    };
    const issued = await call(
      "/v1/admin/api-keys",
      json(adminToken, {
        account_id: account.id,
        principal: { type: "user", id: "smoke-user" },
        role: "member",
      }),
    );
    expect(issued.status).toBe(201);
    const key = (await issued.json()) as { id: string; key: string };
    const auth = { headers: { authorization: `Bearer ${key.key}` } };

    const me = await call("/v1/principal", auth);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ account_id: account.id, id: "smoke-user", role: "member" });

    const revoked = await call(`/v1/admin/api-keys/${key.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(revoked.status).toBe(204);
    expect((await call("/v1/principal", auth)).status).toBe(401);
  });

  it("runs the cron tick on /__scheduled", async () => {
    const response = await call("/__scheduled?cron=*+*+*+*+*");
    expect(response.status).toBe(200);
  });
});
