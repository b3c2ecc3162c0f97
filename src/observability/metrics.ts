import type { Logger } from "./logger.ts";

/** Counters: always a structured log line, and a data point when Analytics Engine is bound. */
export interface Metrics {
  count(name: string, tags?: Record<string, string>, value?: number): void;
}

export function createMetrics(logger: Logger, dataset: AnalyticsEngineDataset | undefined): Metrics {
  return {
    count(name, tags = {}, value = 1) {
      logger.log("info", "metric", { metric: name, value, ...tags });
      dataset?.writeDataPoint({
        indexes: [name],
        blobs: [name, ...Object.entries(tags).map(([key, tag]) => `${key}=${tag}`)],
        doubles: [value],
      });
    },
  };
}
