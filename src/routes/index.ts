import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../http/app-env.ts";
import { adminAccountRoutes } from "./admin/accounts.ts";
import { adminApiKeyRoutes } from "./admin/api-keys.ts";
import { adminAuthzRoutes } from "./admin/authz.ts";
import { agentKeyRoutes } from "./agent-keys.ts";
import { agentGrantRoutes, agentRoutes } from "./agents.ts";
import { compensationRoutes } from "./compensations.ts";
import { docsRoutes } from "./docs.ts";
import { healthRoutes } from "./health.ts";
import { leaseRoutes } from "./leases.ts";
import { principalRoutes } from "./principal.ts";
import { scheduleRoutes } from "./schedules.ts";
import { taskTransitionRoutes } from "./task-transitions.ts";
import { taskGrantRoutes, taskRoutes } from "./tasks.ts";

export function registerRoutes(app: OpenAPIHono<AppEnv>): void {
  app.route("/", healthRoutes);
  app.route("/", docsRoutes);
  app.route("/", adminAccountRoutes);
  app.route("/", adminApiKeyRoutes);
  app.route("/", adminAuthzRoutes);
  app.route("/", principalRoutes);
  app.route("/", agentRoutes);
  app.route("/", agentKeyRoutes);
  app.route("/", scheduleRoutes);
  app.route("/", taskRoutes);
  app.route("/", taskTransitionRoutes);
  app.route("/", leaseRoutes);
  app.route("/", compensationRoutes);
  app.route("/", agentGrantRoutes);
  app.route("/", taskGrantRoutes);
}
