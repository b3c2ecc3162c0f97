import type { Context, MiddlewareHandler } from "hono";
import type { Authorizer } from "../authz/authorizer.ts";
import { createAuthorizer } from "../authz/backend.ts";
import { configFor } from "../config/bindings.ts";
import { type DatabaseHandle, openDatabase } from "../db/client.ts";
import { createLogger, describeError } from "../observability/logger.ts";
import { createMetrics } from "../observability/metrics.ts";
import type { AppEnv, AppOverrides, RequestDeps } from "./app-env.ts";

/**
 * Builds the request's dependencies; after the response, runs queued work, writes the request's
 * counters (once, aggregated), then closes the Pool.
 */
export function dependencies(overrides: AppOverrides): MiddlewareHandler<AppEnv> {
  const open = overrides.openDatabase ?? openDatabase;
  const baseLogger = createLogger(overrides.logSink);
  return async (c, next) => {
    const logger = baseLogger.child({ request_id: c.var.requestId });
    const config = configFor(c.env ?? {});
    let handle: DatabaseHandle | undefined;
    const pending: (() => Promise<void>)[] = [];
    let authorizer: Authorizer | undefined;
    const metrics = createMetrics(logger, config.metrics);
    const deps: RequestDeps = {
      config,
      logger,
      now: overrides.now?.() ?? new Date(),
      metrics,
      get authorizer() {
        authorizer ??=
          overrides.authorizer?.(config) ??
          createAuthorizer(config, { db: () => deps.db, logger, metrics: deps.metrics });
        return authorizer;
      },
      get db() {
        handle ??= open(config, (error) => logger.log("warn", "db.pool_error", describeError(error)));
        return handle.db;
      },
      afterResponse: (work) => void pending.push(work),
    };
    c.set("deps", deps);
    try {
      await next();
    } finally {
      if (pending.length > 0 || handle) {
        afterResponse(
          c,
          (async () => {
            for (const work of pending) {
              await work().catch((error) =>
                logger.log("warn", "request.after_response_failed", describeError(error)),
              );
            }
            metrics.flush();
            await handle
              ?.close()
              .catch((error) => logger.log("warn", "db.close_failed", describeError(error)));
          })(),
        );
      } else {
        metrics.flush();
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
