import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { errorCatalog } from "../../src/errors/catalog.ts";
import { createTestClient } from "../support/test-client.ts";

// The document is generated without touching the database, so fake-but-valid bindings suffice.
const env = {
  DATABASE_URL: "postgres://u:p@127.0.0.1:1/none",
  ADMIN_TOKEN: "adm_0123456789abcdef0123456789abcdef",
};

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

describe("OpenAPI", () => {
  const client = createTestClient(createApp(), env);

  it("serves an OpenAPI 3.1 document generated from the route schemas", async () => {
    const response = await client.request<OpenApiDocument>("GET", "/openapi.json");
    expect(response.status).toBe(200);
    const doc = response.body;
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/health",
        "/ready",
        "/v1/admin/accounts",
        "/v1/admin/api-keys",
        "/v1/admin/api-keys/{id}",
        "/v1/principal",
      ]),
    );
    expect(doc.components.schemas).toHaveProperty("Problem");
    expect(doc.components.securitySchemes).toHaveProperty("apiKey");
    expect(doc.components.securitySchemes).toHaveProperty("adminToken");
  });

  it("documents error responses from the error catalog, as problem+json", async () => {
    const doc = (await client.request<OpenApiDocument>("GET", "/openapi.json")).body;
    const issueKey = doc.paths["/v1/admin/api-keys"]?.post?.responses ?? {};
    for (const code of [
      "malformed_request",
      "unauthenticated",
      "payload_too_large",
      "validation_failed",
      "internal",
    ] as const) {
      const status = String(errorCatalog[code].status);
      expect(issueKey[status], code).toBeDefined();
      expect(Object.keys(issueKey[status]?.content ?? {})).toEqual(["application/problem+json"]);
    }
    const problem = JSON.stringify(doc.components.schemas.Problem);
    for (const code of Object.keys(errorCatalog)) expect(problem).toContain(code);
  });

  it("renders the reference at /docs", async () => {
    const response = await client.request("GET", "/docs");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    expect(response.text).toContain("/openapi.json");
  });

  it("marks the JSON payloads a transition requires as required, and lists 429 on every operation", async () => {
    const doc = (await client.request<OpenApiDocument>("GET", "/openapi.json")).body;
    const schemas = doc.components.schemas as Record<string, { required?: string[] }>;
    const required: Record<string, string> = {
      Complete: "result",
      Fail: "error",
      Progress: "progress",
      Input: "input",
      InputRequired: "prompt",
    };
    for (const [schema, field] of Object.entries(required)) {
      expect(schemas[schema]?.required, schema).toContain(field);
    }
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        expect(operation.responses["429"], `${method} ${path}`).toBeDefined();
      }
    }
  });
});
