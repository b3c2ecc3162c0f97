// A real `wrangler dev` (workerd, the bundled Worker) on a bench database, and a `call` that
// speaks to it over HTTP as any client would.
import { unstable_startWorker } from "wrangler";
import { randomHex } from "../../src/lib/crypto.ts";

// No request log per call, and no fetch of Cloudflare's request metadata (there is no internet).
process.env.WRANGLER_LOG ??= "warn";
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";

export type Call = <T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
  token?: string,
) => Promise<T>;

export interface WorkerServer {
  base: string;
  adminToken: string;
  call: Call;
  close(): Promise<void>;
}

export async function startWorkerServer(
  databaseUrl: string,
  proxyAddress: string,
  transport: "http" | "websocket",
): Promise<WorkerServer> {
  const adminToken = `adm_${randomHex(24)}`;
  const vars = {
    DATABASE_URL: databaseUrl,
    DATABASE_WS_PROXY: proxyAddress,
    DATABASE_TRANSPORT: transport,
    ADMIN_TOKEN: adminToken,
  };
  const worker = await unstable_startWorker({
    config: "wrangler.toml",
    bindings: {
      ...Object.fromEntries(
        Object.entries(vars).map(([name, value]) => [name, { type: "plain_text" as const, value }]),
      ),
      // The loop is one key from one address: production's limits would throttle the drain,
      // which measures the Worker's path, not the limiter (docs/operations.md, rate limits).
      ...Object.fromEntries(
        [
          ["RATE_LIMIT_BY_ADDRESS", "4701"],
          ["RATE_LIMIT_BY_KEY", "4702"],
        ].map(([name, namespace]) => [
          name,
          { type: "ratelimit" as const, namespace_id: namespace, simple: { limit: 1_000_000, period: 60 } },
        ]),
      ),
    },
    dev: { server: { hostname: "127.0.0.1", port: 0 }, inspector: false, watch: false },
  });
  const base = (await worker.url).toString().replace(/\/$/, "");
  const call: Call = async <T>(method: string, path: string, body?: unknown, token?: string) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token ?? adminToken}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  };
  return { base, adminToken, call, close: () => worker.dispose() };
}
