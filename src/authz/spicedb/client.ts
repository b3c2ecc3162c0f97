// SpiceDB's HTTP/JSON API (../shared/notes/spicedb-http-api.md), as plain fetch: the gRPC clients
// don't run in Workers. Transient failures are retried inline: 3 retries, exponential backoff
// from 50 ms with full jitter, never more than 1 s of waiting per call.
import type { Budget } from "../../cron/budget.ts";
import type { Metrics } from "../../observability/metrics.ts";

export type AuthzOp = "register" | "deregister" | "check" | "lookup" | "read";

/** gRPC codes that may succeed when retried: deadline, exhausted, aborted, unavailable. */
const transientCodes = new Set([4, 8, 10, 14]);
export const maxRetries = 3;
export const baseBackoffMs = 50;
export const retryBudgetMs = 1000;
export const attemptTimeoutMs = 2000;

/** A failed SpiceDB call. `code` is the gRPC code (0 when there was no answer at all). */
export class SpiceDbError extends Error {
  constructor(
    readonly code: number,
    readonly httpStatus: number,
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
    this.name = "SpiceDbError";
  }
}

/**
 * A cron job's budget is spent: no further SpiceDB call is made. Not a failure of SpiceDB; the
 * work it would have done waits for the next tick.
 */
export class BudgetSpentError extends Error {
  constructor() {
    super("the job's subrequest or time budget is spent");
    this.name = "BudgetSpentError";
  }
}

export interface SpiceDbClientOptions {
  url: string;
  token: string;
  metrics: Metrics;
  /** Every attempt (retries included) spends one subrequest; none is made once it is exhausted. */
  budget?: Budget;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface CallTags {
  op: AuthzOp;
  resourceType: string;
}

/** Full-jitter delays for the retries, clipped so they never add up past the budget. */
export function retryDelays(random: () => number): number[] {
  const delays: number[] = [];
  let left = retryBudgetMs;
  for (let retry = 0; retry < maxRetries; retry++) {
    const delay = Math.min(left, Math.floor(random() * baseBackoffMs * 2 ** retry));
    delays.push(delay);
    left -= delay;
  }
  return delays;
}

export class SpiceDbClient {
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;

  constructor(private readonly options: SpiceDbClientOptions) {
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
  }

  /** One attempt: the parsed body (or NDJSON lines' `result`s when `streamed`), or a SpiceDbError. */
  async #attempt(path: string, body: unknown, streamed: boolean): Promise<unknown> {
    let response: Response;
    try {
      response = await this.#fetch(`${this.options.url.replace(/\/$/, "")}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${this.options.token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(attemptTimeoutMs),
      });
    } catch (error) {
      const name = error instanceof Error ? error.name : "";
      const timedOut = name === "TimeoutError" || name === "AbortError";
      throw new SpiceDbError(
        timedOut ? 4 : 14,
        0,
        timedOut ? "SpiceDB timed out" : "SpiceDB unreachable",
        true,
      );
    }
    const text = await response.text();
    if (!response.ok) {
      let code = 2;
      let message = `SpiceDB answered ${response.status}`;
      try {
        const status = JSON.parse(text) as { code?: number; message?: string };
        if (typeof status.code === "number") code = status.code;
        if (typeof status.message === "string") message = status.message;
      } catch {}
      const transient = transientCodes.has(code) || [429, 503, 504].includes(response.status);
      throw new SpiceDbError(code, response.status, message, transient);
    }
    if (!streamed) return JSON.parse(text);
    const results: unknown[] = [];
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      const item = JSON.parse(line) as { result?: unknown; error?: { code?: number; message?: string } };
      if (item.error) {
        const code = item.error.code ?? 2;
        throw new SpiceDbError(code, 200, item.error.message ?? "stream error", transientCodes.has(code));
      }
      results.push(item.result);
    }
    return results;
  }

  /** The same client, spending from `budget` (a cron job's) on every attempt. */
  withBudget(budget: Budget): SpiceDbClient {
    return new SpiceDbClient({ ...this.options, budget });
  }

  /** The budget this client spends from, if any. */
  get budget(): Budget | undefined {
    return this.options.budget;
  }

  /** Calls SpiceDB with inline retries of transient failures, counting every attempt. */
  async call<T>(path: string, body: unknown, tags: CallTags, streamed = false): Promise<T> {
    const metricTags = { op: tags.op, resource_type: tags.resourceType };
    const delays = retryDelays(this.#random);
    const { budget } = this.options;
    for (let attempt = 0; ; attempt++) {
      // Checked and spent in one synchronous step, so concurrent calls never overspend.
      if (budget?.exhausted()) throw new BudgetSpentError();
      budget?.spend();
      this.options.metrics.count("authz.attempt", metricTags);
      try {
        const result = (await this.#attempt(path, body, streamed)) as T;
        this.options.metrics.count("authz.success", metricTags);
        return result;
      } catch (error) {
        const retryable = error instanceof SpiceDbError && error.transient && attempt < delays.length;
        if (!retryable) {
          this.options.metrics.count("authz.failure", metricTags);
          throw error;
        }
        this.options.metrics.count("authz.retry", metricTags);
        await this.#sleep(delays[attempt] ?? 0);
      }
    }
  }
}
