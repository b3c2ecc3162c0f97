// Resource ids have one format (DESIGN §3, ADR 0014): a path id that is not its route's prefix and
// 26 Crockford base32 characters is the same 404 as a missing resource, decided before SpiceDB or
// PostgreSQL is asked; ids in bodies and filters get the answer a missing one gets today.
import { beforeAll, describe, expect, it } from "vitest";
import { adminToken, createAccountWithPrincipal, type TestPrincipal } from "../support/factories.ts";
import { spicedbForFile } from "../support/spicedb.ts";
import { callAs, createAgent, createTask, type Json } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";
import type { TestResponse } from "../support/test-client.ts";

describe("resource id format on the spicedb backend", () => {
  const spicedb = spicedbForFile();
  const testApp = useTestApp({ logSink: () => {} }, spicedb.bindings);
  let owner: TestPrincipal;
  let agent: string;
  let task: string;
  let schedule: string;
  let missing: Json;
  const call = (method: string, path: string, body?: unknown) =>
    callAs(testApp.client, owner)(method, path, body);
  const totalCalls = async () => Object.values(await spicedb.calls()).reduce((sum, n) => sum + n, 0);
  const withoutRequestId = (response: TestResponse<Json>) => {
    const { request_id: _id, ...rest } = response.body;
    return rest;
  };
  /** Runs the request and asserts it made no SpiceDB call. */
  const withoutSpicedb = async (request: () => Promise<TestResponse<Json>>) => {
    const before = await totalCalls();
    const response = await request();
    expect(await totalCalls(), `${response.status} ${response.text}`).toBe(before);
    return response;
  };

  beforeAll(async () => {
    owner = await createAccountWithPrincipal(testApp.client);
    agent = await createAgent(testApp.client, owner);
    task = await createTask(testApp.client, owner, agent);
    const created = await call("POST", `/v1/agents/${agent}/schedules`, {
      name: "nightly",
      cron: "0 3 * * *",
      paused: true,
      task: { type: "t" },
    });
    schedule = created.body.id as string;
    const absent = await call("GET", "/v1/tasks/tsk_01m8000000000000000000000a");
    expect(absent.status).toBe(404);
    missing = withoutRequestId(absent);
  });

  it.each([
    ["a quote injection", "/v1/tasks/tsk_x' OR '1'='1"],
    ["dot segments", "/v1/tasks/..%2F..%2Fhealth"],
    ["a double quote", "/v1/tasks/%22tsk_01m8000000000000000000000a"],
    ["upper case", "/v1/tasks/TSK_01M8000000000000000000000A"],
    ["an agent id on a task route", "/v1/tasks/AGENT"],
    ["a task id on an agent route", "/v1/agents/TASK"],
    ["a schedule id of the wrong prefix", "/v1/agents/AGENT/schedules/TASK"],
    ["a key id of the wrong prefix", "/v1/agents/AGENT/api-keys/SCHEDULE"],
    ["an emoji", "/v1/agents/%F0%9F%98%80/schedules"],
    ["an overlong id", `/v1/tasks/tsk_${"0".repeat(300)}`],
  ])("answers %s with the missing resource's 404 without asking SpiceDB", async (_label, template) => {
    const path = template.replace("AGENT", agent).replace("TASK", task).replace("SCHEDULE", schedule);
    const method = path.includes("api-keys") ? "DELETE" : "GET";
    const response = await withoutSpicedb(() => call(method, path));
    expect(response.status).toBe(404);
    expect(withoutRequestId(response)).toEqual(missing);
  });

  it("answers %zz% in a path id with 400 naming it, without asking SpiceDB", async () => {
    const response = await withoutSpicedb(() => call("GET", "/v1/tasks/%zz%"));
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      code: "malformed_request",
      errors: [expect.objectContaining({ location: "path", pointer: "/id" })],
    });
  });

  it("answers a malformed task id on a transition with 404 and changes nothing", async () => {
    const response = await withoutSpicedb(() => call("POST", "/v1/tasks/tsk_'/complete", { result: 1 }));
    expect(response.status).toBe(404);
    expect((await call("GET", `/v1/tasks/${task}`)).body.state).toBe("submitted");
  });

  it("answers a malformed agent_id in a create or claim body as a missing agent (404)", async () => {
    for (const [path, body] of [
      ["/v1/tasks", { agent_id: "agt_'; --", type: "t" }],
      ["/v1/tasks/batch", { agent_id: "..%2F", tasks: [{ type: "t" }] }],
      ["/v1/leases", { agent_id: task, worker_id: "w" }],
    ] as const) {
      const response = await withoutSpicedb(() => call("POST", path, body));
      expect(response.status, path).toBe(404);
      expect(withoutRequestId(response)).toEqual(missing);
    }
  });

  it("lists nothing for a malformed ?agent_id=, as for a missing agent", async () => {
    const response = await withoutSpicedb(() => call("GET", "/v1/tasks?agent_id=agt_x'%20OR%20'1'%3D'1"));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ items: [], next_cursor: null });
  });

  it("answers a malformed id in a batch completion as that item's not_found", async () => {
    const response = await call("POST", "/v1/tasks/batch-complete", {
      items: [
        { id: "tsk_'", worker_id: "w", epoch: 1, result: null },
        { id: task, worker_id: "w", epoch: 1, result: null },
      ],
    });
    expect(response.status).toBe(200);
    expect(response.body.items).toEqual([
      { id: "tsk_'", error: expect.objectContaining({ status: 404, code: "not_found" }) },
      { id: task, error: expect.objectContaining({ status: 409 }) },
    ]);
  });

  it("refuses a batch completion listing one id twice, naming the second", async () => {
    const response = await call("POST", "/v1/tasks/batch-complete", {
      items: [
        { id: "tsk_'", worker_id: "w", epoch: 1, result: null },
        { id: "tsk_'", worker_id: "w", epoch: 1, result: null },
      ],
    });
    expect(response.status).toBe(422);
    expect(response.body.errors).toEqual([expect.objectContaining({ pointer: "/items/1/id" })]);
  });

  it("answers a malformed account_id on an admin key as a missing account (422), without SpiceDB", async () => {
    const issue = (accountId: string) =>
      testApp.client.request<Json>("POST", "/v1/admin/api-keys", {
        token: adminToken(testApp.client),
        body: { account_id: accountId, principal: { type: "user", id: "u" }, role: "member" },
      });
    const malformed = await withoutSpicedb(() => issue("acc_' OR 1=1"));
    const absent = await issue("acc_01m8000000000000000000000a");
    expect(malformed.status).toBe(422);
    expect(malformed.body.errors).toEqual(absent.body.errors);
  });

  it("accepts a principal id of 512 UTF-8 bytes, which SpiceDB can hold, and refuses 513", async () => {
    const grant = (id: string) =>
      call("POST", `/v1/agents/${agent}/grants`, { subject: { type: "user", id }, relation: "viewer" });
    const longest = await grant("\u00e9".repeat(256));
    expect(longest.status, longest.text).toBe(200);
    const over = await withoutSpicedb(() => grant("\u20ac".repeat(171)));
    expect(over.status).toBe(422);
    expect(over.body.errors).toEqual([expect.objectContaining({ pointer: "/subject/id" })]);
  });

  it("still sends customer principal ids to SpiceDB, encoded", async () => {
    const response = await call("POST", `/v1/agents/${agent}/grants`, {
      subject: { type: "user", id: "o'brien/../x@example.com" },
      relation: "viewer",
    });
    expect(response.status, response.text).toBe(200);
    expect(response.body.subject).toEqual({ type: "user", id: "o'brien/../x@example.com" });
  });
});
