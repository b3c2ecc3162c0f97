import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { workersSuiteRateLimit } from "./test/support/rate-limits.ts";

// Tests make no calls to Cloudflare: workerd gets a placeholder `Request.cf`.
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";

// Three suites share one PostgreSQL started by the global setup:
// node    — the app in-process (app.fetch) through the Neon driver and the local bridge;
// workers — the same Worker inside workerd (Cloudflare's vitest integration);
// smoke   — `wrangler dev` itself, over HTTP.
export default defineConfig({
  test: {
    globalSetup: ["./test/setup/global-setup.ts"],
    projects: [
      {
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          environment: "node",
          setupFiles: ["./scripts/local/node-websocket.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                DATABASE_URL: inject("databaseUrl"),
                DATABASE_WS_PROXY: inject("dbProxy"),
                ADMIN_TOKEN: "workerd-suite-admin-token-0123456789",
                ENVIRONMENT: "test",
                // Explicit, so a local .dev.vars from `AUTHZ_BACKEND=spicedb npm run dev` can't leak in.
                AUTHZ_BACKEND: "postgres",
              },
              // The same bindings as wrangler.toml's [[ratelimits]], with limits a test can reach.
              ratelimits: {
                RATE_LIMIT_BY_ADDRESS: {
                  namespace_id: "4701",
                  simple: { limit: workersSuiteRateLimit, period: 60 },
                },
                RATE_LIMIT_BY_KEY: {
                  namespace_id: "4702",
                  simple: { limit: workersSuiteRateLimit, period: 60 },
                },
              },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "smoke",
          include: ["test/smoke/**/*.test.ts"],
          environment: "node",
          setupFiles: ["./scripts/local/node-websocket.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
