import type { Logger } from "./logger.ts";

/**
 * Counters, summed per invocation (one request or one tick) and written once at its end: one
 * structured log line holding every counter, and one Analytics Engine data point per counter and
 * tag set when the METRICS dataset is bound.
 */
export interface Metrics {
  count(name: string, tags?: Record<string, string>, value?: number): void;
}

export interface FlushableMetrics extends Metrics {
  /** Writes what was counted since the last flush; nothing when nothing was. */
  flush(): void;
}

export interface CounterTotal {
  metric: string;
  tags: Record<string, string>;
  value: number;
}

export function createMetrics(logger: Logger, dataset: AnalyticsEngineDataset | undefined): FlushableMetrics {
  let totals = new Map<string, CounterTotal>();
  return {
    count(name, tags = {}, value = 1) {
      const sorted = Object.fromEntries(
        Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
      const key = JSON.stringify([name, sorted]);
      const total = totals.get(key);
      if (total) total.value += value;
      else totals.set(key, { metric: name, tags: sorted, value });
    },
    flush() {
      if (totals.size === 0) return;
      const counters = [...totals.values()];
      totals = new Map();
      logger.log("info", "metrics", { counters });
      if (!dataset) return;
      try {
        for (const { metric, tags, value } of counters) {
          dataset.writeDataPoint({
            indexes: [metric],
            blobs: [metric, ...Object.entries(tags).map(([key, tag]) => `${key}=${tag}`)],
            doubles: [value],
          });
        }
      } catch (error) {
        // The log line above already holds every counter; a lost data point must not fail the request.
        logger.log("warn", "metrics.write_failed", { error_name: (error as Error)?.name });
      }
    },
  };
}
