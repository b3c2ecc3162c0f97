import { Hono } from "hono";
import type { AppEnv } from "../http/app-env.ts";

// Swagger UI is loaded by the reader's browser; the Worker serves only this page and /openapi.json.
const page = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>leasehold API</title>
  <link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css" />
</head>
<body>
  <div id="api"></div>
  <script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
  <script>SwaggerUIBundle({ url: "/openapi.json", dom_id: "#api" });</script>
</body>
</html>`;

export const docsRoutes = new Hono<AppEnv>().get("/docs", (c) => c.html(page));
