// The input boundary (DESIGN §5, ADR 0014), one readable probe per finding: text PostgreSQL
// cannot store, numbers JSON.parse altered, nesting too deep, bad percent-encoding and integers
// beyond their column are a 4xx naming the field, and nothing is stored; good text round-trips.
import { beforeAll, describe, expect, it } from "vitest";
import { maxJsonDepth } from "../../src/http/input-guard.ts";
import { adminToken, createAccountWithPrincipal, type TestPrincipal } from "../support/factories.ts";
import { queryRows } from "../support/graph.ts";
import { callAs, createAgent, createTask, type Json } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";
import type { TestResponse } from "../support/test-client.ts";

type Problem = { code: string; errors?: { location: string; pointer: string; message: string }[] };

function expectRefused(
  response: TestResponse<unknown>,
  status: number,
  code: string,
  field?: { location: string; pointer: string },
) {
  expect(response.status, response.text).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  const problem = response.body as Problem;
  expect(problem.code).toBe(code);
  if (field) expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining(field)]));
}

describe("input boundary", () => {
  const testApp = useTestApp({ logSink: () => {} });
  let owner: TestPrincipal;
  let agent: string;
  let taskId: string;
  const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    callAs(testApp.client, owner)(method, path, body, headers);
  const raw = (method: string, path: string, rawBody: BodyInit) =>
    testApp.client.request<Json>(method, path, {
      token: owner.token,
      rawBody,
      headers: { "content-type": "application/json" },
    });
  const counts = async () =>
    (
      await queryRows<{ agents: number; tasks: number; events: number; steps: number }>(
        testApp.database,
        `SELECT (SELECT count(*)::int FROM agents) AS agents, (SELECT count(*)::int FROM tasks) AS tasks,
                (SELECT count(*)::int FROM task_events) AS events, (SELECT count(*)::int FROM task_compensations) AS steps`,
      )
    )[0];

  beforeAll(async () => {
    owner = await createAccountWithPrincipal(testApp.client);
    agent = await createAgent(testApp.client, owner);
    taskId = await createTask(testApp.client, owner, agent);
  });

  describe("text PostgreSQL cannot store is refused with the field named, and nothing changes", () => {
    const nul = "a\u0000b";
    const lone = "x\ud800";
    it.each<[string, () => [string, string, unknown], string]>([
      ["a NUL in an agent name", () => ["POST", "/v1/agents", { name: nul }], "/name"],
      ["an unpaired surrogate in an agent name", () => ["POST", "/v1/agents", { name: lone }], "/name"],
      [
        "a lone low surrogate in a description",
        () => ["POST", "/v1/agents", { name: "ok", description: "\udc00" }],
        "/description",
      ],
      [
        "a NUL in a metadata key",
        () => ["POST", "/v1/agents", { name: "ok", metadata: { [nul]: 1 } }],
        `/metadata/${nul}`,
      ],
      [
        "a NUL deep in task input",
        () => ["POST", "/v1/tasks", { agent_id: agent, type: "t", input: { a: [{ b: nul }] } }],
        "/input/a/0/b",
      ],
      [
        "a surrogate in a task name",
        () => ["POST", "/v1/tasks", { agent_id: agent, type: "t", name: lone }],
        "/name",
      ],
      [
        "a NUL in a worker id",
        () => ["POST", "/v1/leases", { agent_id: agent, worker_id: nul }],
        "/worker_id",
      ],
      ["a NUL in progress", () => ["POST", `/v1/tasks/${taskId}/progress`, { progress: nul }], "/progress"],
      [
        "a surrogate in a result",
        () => ["POST", `/v1/tasks/${taskId}/complete`, { result: { r: lone } }],
        "/result/r",
      ],
      [
        "a NUL in a prompt",
        () => ["POST", `/v1/tasks/${taskId}/input-required`, { prompt: [nul], worker_id: "w", epoch: 1 }],
        "/prompt/0",
      ],
      [
        "a NUL in a compensation kind",
        () => [
          "POST",
          `/v1/tasks/${taskId}/compensations`,
          { kind: nul, target: "t", worker_id: "w", epoch: 1 },
        ],
        "/kind",
      ],
      [
        "a NUL in a grant's principal id",
        () => [
          "POST",
          `/v1/agents/${agent}/grants`,
          { subject: { type: "user", id: nul }, relation: "viewer" },
        ],
        "/subject/id",
      ],
      [
        "a surrogate in a cancel reason",
        () => ["POST", `/v1/tasks/${taskId}/cancel`, { reason: lone }],
        "/reason",
      ],
    ])("%s", async (_label, request, pointer) => {
      const [method, path, body] = request();
      const before = await counts();
      expectRefused(await call(method, path, body), 422, "validation_failed", { location: "body", pointer });
      expect(await counts()).toEqual(before);
    });

    it("refuses a NUL in an admin-issued principal id", async () => {
      const response = await testApp.client.request("POST", "/v1/admin/api-keys", {
        token: adminToken(testApp.client),
        body: { account_id: owner.accountId, principal: { type: "user", id: "u\u0000" }, role: "member" },
      });
      expectRefused(response, 422, "validation_failed", { location: "body", pointer: "/principal/id" });
    });

    it("refuses bytes that are not UTF-8 instead of storing U+FFFD", async () => {
      const bytes = new Uint8Array([
        ...new TextEncoder().encode('{"name":"a'),
        0xed,
        0xa0,
        0x80,
        ...new TextEncoder().encode('"}'),
      ]);
      const before = await counts();
      expectRefused(await raw("POST", "/v1/agents", bytes), 400, "malformed_request");
      expect(await counts()).toEqual(before);
    });

    it("refuses surrounding whitespace in a name rather than trimming it", async () => {
      expectRefused(await call("POST", "/v1/agents", { name: " padded " }), 422, "validation_failed", {
        location: "body",
        pointer: "/name",
      });
    });

    it("refuses a principal id whose UTF-8 is too long for the graph", async () => {
      const response = await call("POST", `/v1/agents/${agent}/grants`, {
        subject: { type: "user", id: "€".repeat(256) },
        relation: "viewer",
      });
      expectRefused(response, 422, "validation_failed", { location: "body", pointer: "/subject/id" });
    });
  });

  describe("JSON numbers and nesting", () => {
    it.each([
      ["1e400 in input", `{"agent_id":"AGENT","type":"t","input":1e400}`, "/input"],
      ["-1e400 in priority", `{"agent_id":"AGENT","type":"t","priority":-1e400}`, "/priority"],
      [
        "1e400 in a metadata value",
        `{"agent_id":"AGENT","type":"t","metadata":{"n":[1e400]}}`,
        "/metadata/n/0",
      ],
    ])("refuses %s (JSON.parse makes it Infinity, stored as null)", async (_label, text, pointer) => {
      const before = await counts();
      expectRefused(await raw("POST", "/v1/tasks", text.replace("AGENT", agent)), 422, "validation_failed", {
        location: "body",
        pointer,
      });
      expect(await counts()).toEqual(before);
    });

    const nested = (levels: number) => "[".repeat(levels) + "]".repeat(levels);

    it(`stores input nested ${maxJsonDepth} deep counting the body, and refuses one level more`, async () => {
      const fits = `{"agent_id":"${agent}","type":"t","input":${nested(maxJsonDepth - 1)}}`;
      const created = await raw("POST", "/v1/tasks", fits);
      expect(created.status, created.text).toBe(201);
      expect(JSON.stringify(created.body.input)).toBe(nested(maxJsonDepth - 1));
      const deeper = `{"agent_id":"${agent}","type":"t","input":${nested(maxJsonDepth)}}`;
      expectRefused(await raw("POST", "/v1/tasks", deeper), 422, "validation_failed", {
        location: "body",
        pointer: `/input${"/0".repeat(maxJsonDepth - 1)}`,
      });
    });

    it("refuses 100,000 levels of nesting with a 422, not a stack overflow", async () => {
      const response = await raw("POST", `/v1/tasks/${taskId}/progress`, `{"progress":${nested(100_000)}}`);
      expectRefused(response, 422, "validation_failed");
    });
  });

  describe("path and query values", () => {
    it.each([
      ["%00 in a path id", `/v1/tasks/tsk_%00`, { location: "path", pointer: "/id" }],
      ["%zz% in a path id", `/v1/tasks/%zz%`, { location: "path", pointer: "/id" }],
      ["non-UTF-8 in a path id", `/v1/agents/%ED%A0%80`, { location: "path", pointer: "/id" }],
      ["%00 in a query value", `/v1/tasks?type=a%00`, { location: "query", pointer: "/type" }],
      ["%zz in a query value", `/v1/agents?cursor=%zz`, { location: "query", pointer: "/cursor" }],
      ["%00 in an unknown query parameter", `/v1/agents?debug=%00`, { location: "query", pointer: "/debug" }],
      ["%00 in a by-name path", `/v1/tasks/by-name/x%00`, { location: "path", pointer: "/name" }],
    ])("answers %s with 400 malformed_request", async (_label, path, field) => {
      expectRefused(await call("GET", path), 400, "malformed_request", field);
    });

    it("checks the URL after authentication, so without a key routes and non-routes both answer 401", async () => {
      for (const path of ["/v1/tasks/%zz", "/v1/no-such-route/%zz", "/v1/agents?cursor=%00"]) {
        expectRefused(await testApp.client.request("GET", path), 401, "unauthenticated");
      }
    });

    it("leaves bad percent-encoding on a path no route matches to the 404", async () => {
      expectRefused(await call("GET", "/v1/nothing/%zz"), 404, "not_found");
    });

    it.each([
      ["2147483648", "/seq"],
      ["9223372036854775808", "/seq"],
      ["0", "/seq"],
    ])("refuses compensation step %s (beyond int4) with 422 at the path", async (seq, pointer) => {
      const response = await call("POST", `/v1/tasks/${taskId}/compensations/${seq}/done`, {
        worker_id: "w",
        epoch: 1,
      });
      expectRefused(response, 422, "validation_failed", { location: "path", pointer });
    });

    it.each([
      [`/v1/tasks/TASK/events?cursor=9007199254740992`, "/cursor"],
      [`/v1/tasks/TASK/events?cursor=99999999999999999999`, "/cursor"],
      [`/v1/agents?limit=2147483648`, "/limit"],
    ])("refuses the out-of-range query value in %s", async (path, pointer) => {
      expectRefused(await call("GET", path.replace("TASK", taskId)), 422, "validation_failed", {
        location: "query",
        pointer,
      });
    });

    it("refuses an Idempotency-Key that is not printable ASCII", async () => {
      const response = await call(
        "POST",
        "/v1/agents",
        { name: "keyed" },
        { "idempotency-key": "caf\u00e9" },
      );
      expectRefused(response, 422, "validation_failed", { location: "header", pointer: "/idempotency-key" });
    });
  });

  describe("text round-trips byte for byte", () => {
    const samples = {
      emoji: "\u{1F600} grinning",
      combining: "e\u0301 n\u0303 \u0041\u030A",
      rtl: "\u05E9\u05DC\u05D5\u05DD \u0645\u0631\u062D\u0628\u0627",
      separators: "line\u2028paragraph\u2029end",
      zwj: "\u{1F469}\u200D\u{1F4BB}",
    };
    const hex = (text: string) => Buffer.from(text, "utf8").toString("hex");

    it.each(Object.entries(samples))(
      "stores %s in names, input and metadata keys exactly",
      async (label, text) => {
        const created = await call("POST", "/v1/agents", {
          name: `${text} ${label}`,
          metadata: { [text]: text },
        });
        expect(created.status, created.text).toBe(201);
        const agentId = created.body.id as string;
        const read = await call("GET", `/v1/agents/${agentId}`);
        expect(read.body.name).toBe(`${text} ${label}`);
        expect(read.body.metadata).toEqual({ [text]: text });
        const task = await call("POST", "/v1/tasks", {
          agent_id: agentId,
          type: "t",
          name: `${label}:${text}`,
          input: { [text]: [text] },
        });
        expect(task.status, task.text).toBe(201);
        const byName = await call("GET", `/v1/tasks/by-name/${encodeURIComponent(`${label}:${text}`)}`);
        expect(byName.status).toBe(200);
        expect(byName.body.input).toEqual({ [text]: [text] });
        const [stored] = await queryRows<{ name: string; key: string }>(
          testApp.database,
          "SELECT encode(convert_to(name, 'UTF8'), 'hex') AS name, (SELECT encode(convert_to(k, 'UTF8'), 'hex') FROM jsonb_object_keys(metadata) AS k) AS key FROM agents WHERE id = $1",
          [agentId],
        );
        expect(stored).toEqual({ name: hex(`${text} ${label}`), key: hex(text) });
      },
    );
  });
});
