import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import { PayloadTooLargeError } from "./errors/domain-error.ts";
import type { AppOverrides } from "./http/app-env.ts";
import { requireAdminToken, requireApiKey } from "./http/authentication.ts";
import { dependencies } from "./http/dependencies.ts";
import { createErrorHandler, notFoundHandler } from "./http/error-handler.ts";
import { guardInput } from "./http/input-guard.ts";
import { requireJsonBodies } from "./http/json-body.ts";
import { limitByAddress } from "./http/rate-limit.ts";
import { createRouter } from "./http/router.ts";
import { securityHeaders } from "./http/security-headers.ts";
import { newId } from "./lib/ids.ts";
import { registerRoutes } from "./routes/index.ts";

export const maxBodyBytes = 256 * 1024;

export function createApp(overrides: AppOverrides = {}) {
  const app = createRouter();

  app.use("*", requestId({ generator: () => newId("req"), limitLength: 128 }));
  app.use("*", securityHeaders);
  app.use(
    "*",
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: () => {
        throw new PayloadTooLargeError("The request body exceeds 256 KiB.");
      },
    }),
  );
  app.use("*", dependencies(overrides));
  app.use("*", limitByAddress);
  app.use("*", requireJsonBodies);
  app.use("/v1/admin/*", requireAdminToken);
  app.use("/v1/*", requireApiKey());
  // After authentication: without a credential every /v1 path is 401, so routes stay unprobeable.
  app.use("*", guardInput);

  registerRoutes(app);

  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "http",
    scheme: "bearer",
    description: "An API key: `lh_<key id>_<secret>`.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "adminToken", {
    type: "http",
    scheme: "bearer",
    description: "The operator's ADMIN_TOKEN; accepted only on /v1/admin/*.",
  });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "leasehold",
      version: "1",
      description: "Durable task control plane for agent platforms.",
    },
  });

  app.notFound(notFoundHandler);
  app.onError(createErrorHandler(overrides.logSink));
  return app;
}

export type App = ReturnType<typeof createApp>;
