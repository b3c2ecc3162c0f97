import type { Context, MiddlewareHandler } from "hono";
import { configFor } from "../config/bindings.ts";
import { type DatabaseHandle, openDatabase } from "../db/client.ts";
import { createLogger, describeError } from "../observability/logger.ts";
import type { AppEnv, AppOverrides } from "./app-env.ts";

export function dependencies(overrides: AppOverrides): MiddlewareHandler<AppEnv> {
  const open = overrides.openDatabase ?? openDatabase;
  const baseLogger = createLogger(overrides.logSink);
  return async (c, next) => {
    const logger = baseLogger.child({ request_id: c.var.requestId });
    const config = configFor(c.env ?? {});
    let handle: DatabaseHandle | undefined;
    c.set("deps", {
      config,
      logger,
      now: overrides.now?.() ?? new Date(),
      get db() {
        handle ??= open(config, (error) => logger.log("warn", "db.pool_error", describeError(error)));
        return handle.db;
      },
    });
    try {
      await next();
    } finally {
      if (handle) {
        const closing = handle
          .close()
          .catch((error) => logger.log("warn", "db.close_failed", describeError(error)));
        afterResponse(c, closing);
      }
    }
  };
}

function afterResponse(c: Context, work: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    // No execution context (a plain app.fetch from Node): the promise still settles on its own.
  }
}
