// /docs loads Swagger UI at the exact installed version, checked by Subresource Integrity, under a
// Content-Security-Policy that allows exactly that; every other response gets the default headers.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { swaggerUiVersion } from "../../src/routes/docs.ts";
import { adminToken } from "../support/factories.ts";
import { useTestApp } from "../support/test-app.ts";
import { createTestClient } from "../support/test-client.ts";

const root = path.resolve(import.meta.dirname, "../..");
const dist = path.join(root, "node_modules", "swagger-ui-dist");
const sri = (file: string) =>
  `sha384-${createHash("sha384")
    .update(readFileSync(path.join(dist, file)))
    .digest("base64")}`;
const directives = (policy: string | null) =>
  Object.fromEntries(
    (policy ?? "").split(";").map((directive) => {
      const [name, ...sources] = directive.trim().split(/\s+/);
      return [name, sources];
    }),
  );

describe("the API reference at /docs", () => {
  const testApp = useTestApp();

  it("pins the installed swagger-ui-dist, exactly, in package.json and in the page", async () => {
    const installed = JSON.parse(readFileSync(path.join(dist, "package.json"), "utf8")).version;
    const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
    expect(manifest.devDependencies["swagger-ui-dist"]).toBe(installed);
    expect(swaggerUiVersion).toBe(installed);
    const page = (await testApp.client.request("GET", "/docs")).text;
    const urls = [...page.matchAll(/(?:src|href)="(https?:[^"]+)"/g)].map((match) => match[1]);
    expect(urls.sort()).toEqual([
      `https://cdn.jsdelivr.net/npm/swagger-ui-dist@${installed}/swagger-ui-bundle.js`,
      `https://cdn.jsdelivr.net/npm/swagger-ui-dist@${installed}/swagger-ui.css`,
    ]);
  });

  it("checks both assets by the sha384 of the installed files", async () => {
    const page = (await testApp.client.request("GET", "/docs")).text;
    const script = /<script src="([^"]+)" integrity="([^"]+)" crossorigin="anonymous"><\/script>/.exec(page);
    const style =
      /<link rel="stylesheet" href="([^"]+)" integrity="([^"]+)" crossorigin="anonymous" \/>/.exec(page);
    expect(script?.[1]).toMatch(/\/swagger-ui-bundle\.js$/);
    expect(script?.[2]).toBe(sri("swagger-ui-bundle.js"));
    expect(style?.[1]).toMatch(/\/swagger-ui\.css$/);
    expect(style?.[2]).toBe(sri("swagger-ui.css"));
  });

  it("answers a policy that allows exactly those assets, its own inline script and this origin", async () => {
    const response = await testApp.client.request("GET", "/docs");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    const policy = directives(response.headers.get("content-security-policy"));
    const inline = [...response.text.matchAll(/<script>([^<]*)<\/script>/g)].map(
      (match) => match[1] as string,
    );
    expect(inline).toHaveLength(1);
    const inlineHash = `'sha256-${createHash("sha256")
      .update(inline[0] as string)
      .digest("base64")}'`;
    const cdn = `https://cdn.jsdelivr.net/npm/swagger-ui-dist@${swaggerUiVersion}`;
    expect(policy).toEqual({
      "default-src": ["'none'"],
      "script-src": [`${cdn}/swagger-ui-bundle.js`, inlineHash],
      "style-src": [`${cdn}/swagger-ui.css`],
      "img-src": ["'self'", "data:"],
      "connect-src": ["'self'"],
      "base-uri": ["'none'"],
      "form-action": ["'none'"],
      "frame-ancestors": ["'none'"],
    });
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  });
});

describe("security headers on every response", () => {
  const testApp = useTestApp();

  it("answers JSON, problems and misconfiguration alike with nosniff and a policy that loads nothing", async () => {
    const misconfigured = createTestClient(createApp({ logSink: () => {} }), {
      ...testApp.client.env,
      FGAC_TASKS: "sometimes",
    });
    const responses = [
      await testApp.client.request("GET", "/health"),
      await testApp.client.request("GET", "/openapi.json"),
      await testApp.client.request("GET", "/v1/principal"),
      await testApp.client.request("GET", "/no/such/route"),
      await testApp.client.request("POST", "/v1/admin/accounts", {
        token: adminToken(testApp.client),
        body: { name: "" },
      }),
      await misconfigured.request("GET", "/health"),
    ];
    expect(responses.map((response) => response.status)).toEqual([200, 200, 401, 404, 422, 500]);
    for (const response of responses) {
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(directives(response.headers.get("content-security-policy"))).toEqual({
        "default-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
      });
      expect(response.headers.get("x-frame-options")).toBe("DENY");
      expect(response.headers.get("x-request-id")).toMatch(/^req_/);
    }
  });
});
