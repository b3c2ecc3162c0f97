// DESIGN §10 inside workerd: every hot request is one round trip to the database, counted on the
// wire: one POST to Neon's HTTP query endpoint (here the local bridge's /sql) and no WebSocket.
import { env } from "cloudflare:test";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index.ts";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { ageHeartbeat } from "../support/lease-helpers.ts";
import { createTestClient, type TestClient } from "../support/test-client.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-database.ts";

type Json = Record<string, unknown>;

describe("database round trips per hot request, in workerd", () => {
  let database: TestDatabase;
  let client: TestClient;
  const wire = { queries: 0, sockets: 0 };
  const RealWebSocket = globalThis.WebSocket;
  beforeAll(async () => {
    database = await createTestDatabase();
    client = createTestClient(worker, { ...env, DATABASE_URL: database.url });
  });
  afterAll(() => database.drop());
  beforeEach(() => {
    const realFetch = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.pathname === "/sql") wire.queries++;
      return realFetch(input, init);
    });
    globalThis.WebSocket = class extends RealWebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        wire.sockets++;
      }
    };
  });
  afterEach(() => {
    vi.restoreAllMocks();
    globalThis.WebSocket = RealWebSocket;
  });

  it("sends each hot request as one HTTP query and opens no WebSocket", async () => {
    const owner = await createAccountWithPrincipal(client);
    const call = (method: string, path: string, body?: unknown) =>
      client.request<Json>(method, path, { token: owner.token, ...(body ? { body } : {}) });
    const agent = await call("POST", "/v1/agents", { name: "round-trips" });
    const agentId = agent.body.id as string;
    const measured: Record<string, { queries: number; sockets: number; status: number }> = {};
    const measure = async (label: string, run: () => Promise<{ status: number; body: Json }>) => {
      wire.queries = 0;
      wire.sockets = 0;
      const response = await run();
      measured[label] = { ...wire, status: response.status };
      return response.body;
    };

    const task = await measure("create", () => call("POST", "/v1/tasks", { agent_id: agentId, type: "t" }));
    await measure("create batch", () =>
      call("POST", "/v1/tasks/batch", { agent_id: agentId, tasks: [{ type: "t" }, { type: "t" }] }),
    );
    await measure("get", () => call("GET", `/v1/tasks/${task.id}`));
    const claimed = await measure("claim", () =>
      call("POST", "/v1/leases", { agent_id: agentId, worker_id: "w", max_tasks: 3, lease_seconds: 60 }),
    );
    const items = claimed.items as { task: { id: string }; lease: { epoch: number } }[];
    const [first, ...rest] = items;
    if (!first) throw new Error("nothing claimed");
    const token = { worker_id: "w", epoch: first.lease.epoch };
    await measure("progress", () =>
      call("POST", `/v1/tasks/${first.task.id}/progress`, { progress: 1, ...token }),
    );
    await ageHeartbeat(database, first.task.id);
    await measure("heartbeat", () =>
      call("POST", `/v1/tasks/${first.task.id}/heartbeat`, { ...token, lease_seconds: 60 }),
    );
    await measure("complete", () =>
      call("POST", `/v1/tasks/${first.task.id}/complete`, { result: 1, ...token }),
    );
    await measure("batch-complete", () =>
      call("POST", "/v1/tasks/batch-complete", {
        items: rest.map((item) => ({
          id: item.task.id,
          worker_id: "w",
          epoch: item.lease.epoch,
          result: null,
        })),
      }),
    );
    await measure("claim (nothing to claim)", () =>
      call("POST", "/v1/leases", { agent_id: agentId, worker_id: "w" }),
    );

    const expected = Object.fromEntries(
      Object.entries(measured).map(([label, { status }]) => [label, { queries: 1, sockets: 0, status }]),
    );
    expect(measured).toEqual(expected);
    for (const [label, { status }] of Object.entries(measured)) expect(status, label).toBeLessThan(300);
  });
});
