// Property test over every operation of the served OpenAPI document, on both authorization
// backends: a request that is valid but for one bad value (DESIGN §5, ADR 0014) is answered with a
// problem+json 4xx of a known code — never a 5xx — and changes nothing in PostgreSQL or SpiceDB.
// Replay a failure with FUZZ_SEED=<seed>; FUZZ_RUNS sets the runs per position.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { errorCatalog } from "../../src/errors/catalog.ts";
import { adminToken, type TestPrincipal } from "../support/factories.ts";
import { openFingerprinter } from "../support/fingerprint.ts";
import { seedFuzzFixtures } from "../support/fuzz-fixtures.ts";
import { createFuzzer, type FuzzRequest, operationsOf, serializeBody } from "../support/openapi-fuzz.ts";
import { spicedbForFile } from "../support/spicedb.ts";
import { useTestApp } from "../support/test-app.ts";
import { createTestClient, type TestResponse } from "../support/test-client.ts";

const seed = Number(process.env.FUZZ_SEED ?? 20_260_406);
const numRuns = Number(process.env.FUZZ_RUNS ?? 1);
console.log(`route fuzz: seed ${seed}, ${numRuns} runs per position, operation and backend`);

// The document needs no database: it is generated from the route schemas.
const docClient = createTestClient(createApp(), {
  DATABASE_URL: "postgres://u:p@127.0.0.1:1/none",
  ADMIN_TOKEN: "adm_0123456789abcdef0123456789abcdef",
});
const doc = (await docClient.request("GET", "/openapi.json")).body as unknown as Parameters<
  typeof operationsOf
>[0];
const operations = operationsOf(doc);

type Problem = {
  code: string;
  status: number;
  request_id: string;
  errors?: { location: string; pointer: string }[];
};

function checkAnswer(request: FuzzRequest, response: TestResponse<unknown>) {
  const what = `${request.method} ${request.url.slice(0, 200)} [${request.bad.label}]`;
  expect(response.status, what).toBeLessThan(500);
  expect(response.text, what).not.toMatch(/SELECT |INSERT |UPDATE |DATABASE_URL|SPICEDB_|\.ts:\d/);
  if (response.status < 400) {
    // The only successes allowed change nothing by definition: a filter naming no resource lists
    // nothing, and a batch item naming no task is answered as a missing one.
    const items = (response.body as { items?: { error?: unknown }[] } | undefined)?.items;
    if (request.method === "GET") expect(items, what).toEqual([]);
    else {
      expect(request.url, what).toBe("/v1/tasks/batch-complete");
      expect(
        items?.some((item) => item.error === undefined),
        what,
      ).toBe(false);
    }
    return;
  }
  expect(response.headers.get("content-type"), what).toBe("application/problem+json");
  const problem = response.body as Problem;
  expect(Object.keys(errorCatalog), what).toContain(problem.code);
  expect(errorCatalog[problem.code as keyof typeof errorCatalog].status, what).toBe(response.status);
  expect(problem.request_id, what).toBe(response.headers.get("x-request-id"));
  const expected = request.bad.expect;
  if (!expected) return;
  expect({ status: response.status, code: problem.code }, what).toEqual({
    status: expected.status,
    code: expected.code,
  });
  if (expected.location) {
    const field = {
      location: expected.location,
      ...(expected.pointer === undefined ? {} : { pointer: expected.pointer }),
    };
    expect(problem.errors, what).toEqual(expect.arrayContaining([expect.objectContaining(field)]));
  }
}

describe.each([
  { backend: "postgres", spicedb: undefined },
  { backend: "spicedb", spicedb: spicedbForFile() },
])("route fuzz on the $backend backend", ({ spicedb }) => {
  const testApp = useTestApp({ logSink: () => {} }, spicedb?.bindings ?? {});
  let owner: TestPrincipal;
  let fuzzer: ReturnType<typeof createFuzzer>;
  let fingerprint: Awaited<ReturnType<typeof openFingerprinter>>;

  beforeAll(async () => {
    const seeded = await seedFuzzFixtures(testApp.client);
    owner = seeded.owner;
    fuzzer = createFuzzer(doc, seeded.fixtures);
    // Admin requests are audited by design; the audit table is the one thing they may write.
    fingerprint = await openFingerprinter(testApp.database, {
      exclude: ["admin_audit_events"],
      ...(spicedb ? { spicedb } : {}),
    });
  });
  afterAll(() => fingerprint?.close());

  it("covers every operation of the document", () => {
    expect(operations.length).toBeGreaterThanOrEqual(45);
    expect(fingerprint.tables).toEqual(expect.arrayContaining(["tasks", "agents", "authz_relationships"]));
  });

  // Every position of every operation gets its own property, so none is left to chance.
  it.each(operations.map((op) => [op.method, op.path, op] as const))("%s %s", async (_method, _path, op) => {
    const targets = fuzzer.targetsOf(op);
    expect(targets.length).toBeGreaterThan(0);
    // Per operation, so one that changed something does not fail every later one.
    const baseline = await fingerprint.take();
    for (const [index, target] of targets.entries()) {
      await fc.assert(
        fc.asyncProperty(fuzzer.request(op, target), async (request) => {
          const body = serializeBody(request);
          const response = await testApp.client.request(request.method, request.url, {
            token: request.admin ? adminToken(testApp.client) : owner.token,
            headers: {
              ...request.headers,
              ...(body === undefined ? {} : { "content-type": "application/json" }),
            },
            ...(body === undefined ? {} : { rawBody: body }),
          });
          checkAnswer(request, response);
          expect(await fingerprint.take(), `${request.method} ${request.url} changed state`).toEqual(
            baseline,
          );
        }),
        { seed: seed + index, numRuns, endOnFailure: true },
      );
    }
  });
});
