import { describe, expect, it } from "vitest";
import journal from "../../drizzle/meta/_journal.json" with { type: "json" };
import { createApp } from "../../src/app.ts";
import { testBindings } from "../support/bindings.ts";
import { useTestApp } from "../support/test-app.ts";
import { createTestClient, type TestClient } from "../support/test-client.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-database.ts";

const shipped = journal.entries.length;

describe("health and readiness", () => {
  const testApp = useTestApp();

  it("answers liveness with a request id", async () => {
    const response = await testApp.client.request("GET", "/health");
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: "ok" });
    expect(response.headers.get("x-request-id")).toMatch(/^req_/);
  });

  it("is ready when every shipped migration is applied", async () => {
    const response = await testApp.client.request("GET", "/ready");
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: "ready", migrations: { expected: shipped, applied: shipped } });
  });

  it("is not ready on a database without migrations", async () => {
    const empty = await createTestDatabase({ empty: true });
    try {
      const response = await createTestClient(createApp(), testBindings(empty)).request("GET", "/ready");
      expect(response.status).toBe(503);
      expect(response.body).toEqual({ status: "not_ready", migrations: { expected: shipped, applied: 0 } });
    } finally {
      await empty.drop();
    }
  });
});
