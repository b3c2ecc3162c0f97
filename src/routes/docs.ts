import { Hono } from "hono";
import type { AppEnv } from "../http/app-env.ts";

// Swagger UI is loaded by the reader's browser from jsDelivr, at the exact version of the
// `swagger-ui-dist` devDependency and checked by Subresource Integrity; a test recomputes both
// hashes from node_modules, so bumping the package without updating them fails.
export const swaggerUiVersion = "5.35.0";
const cdn = `https://cdn.jsdelivr.net/npm/swagger-ui-dist@${swaggerUiVersion}`;
export const swaggerUiAssets = {
  script: {
    url: `${cdn}/swagger-ui-bundle.js`,
    integrity: "sha384-gjRm0bEPMeTmMh5jT2cHccIwCUZSTd8YC+j0d0sXw0MdGEfScduGpSyF3ZSSLkX9",
  },
  style: {
    url: `${cdn}/swagger-ui.css`,
    integrity: "sha384-WlYgdmXYOOBWL5apwjDEZwN+U3HmXSSu5R6V5aGxEcf7z+KuRNwBhoxKVN1i3D5I",
  },
} as const;

// No online validator: it would send the document's URL to a third party.
export const docsInitScript = `SwaggerUIBundle({ url: "/openapi.json", dom_id: "#api", validatorUrl: null });`;

const page = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>leasehold API</title>
  <link rel="stylesheet" href="${swaggerUiAssets.style.url}" integrity="${swaggerUiAssets.style.integrity}" crossorigin="anonymous" />
</head>
<body>
  <div id="api"></div>
  <script src="${swaggerUiAssets.script.url}" integrity="${swaggerUiAssets.script.integrity}" crossorigin="anonymous"></script>
  <script>${docsInitScript}</script>
</body>
</html>`;

let policy: Promise<string> | undefined;

/** Exactly the two assets, the page's own inline script (by hash) and requests to this origin. */
function contentSecurityPolicy(): Promise<string> {
  policy ??= crypto.subtle
    .digest("SHA-256", new TextEncoder().encode(docsInitScript))
    .then((digest) => btoa(String.fromCharCode(...new Uint8Array(digest))))
    .then((hash) =>
      [
        "default-src 'none'",
        `script-src ${swaggerUiAssets.script.url} 'sha256-${hash}'`,
        `style-src ${swaggerUiAssets.style.url}`,
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
      ].join("; "),
    );
  return policy;
}

export const docsRoutes = new Hono<AppEnv>().get("/docs", async (c) => {
  c.header("content-security-policy", await contentSecurityPolicy());
  return c.html(page);
});
