// Latencies a single worker sees: a claim at a small and a large backlog, and the time from a
// task's creation to its claim by one polling worker.
import type { BenchEnvironment } from "../environment.ts";
import { withProvisionedApp } from "../leasehold-app.ts";
import { enqueueLeasehold, httpVerbs } from "../systems/leasehold.ts";

export interface Percentiles {
  p50: number;
  p95: number;
  samples: number;
}

export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { p50: at(0.5), p95: at(0.95), samples: sorted.length };
}

const now = () => performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Claim latency (one claimer, max_tasks 1, through the HTTP handlers) with `backlog` tasks queued. */
export async function claimLatency(
  env: BenchEnvironment,
  template: string,
  backlog: number,
  claims: number,
): Promise<Percentiles> {
  return withProvisionedApp(env, template, 2, async (app, worker) => {
    const verbs = httpVerbs(app.call, worker);
    await enqueueLeasehold(verbs, backlog);
    await app.db.execute("ANALYZE");
    for (let i = 0; i < 20; i++) await verbs.claim("warm-up", 1);
    const times: number[] = [];
    for (let i = 0; i < claims; i++) {
      const start = now();
      const items = await verbs.claim("w", 1);
      times.push(now() - start);
      if (items.length !== 1) throw new Error("claim latency: the backlog ran out");
    }
    return percentiles(times);
  });
}

/**
 * One worker polls (claim, then sleep `pollMs` when nothing came back) while tasks are created
 * one at a time; the latency is from the create's answer to the claim's answer.
 */
export async function submitToClaim(
  env: BenchEnvironment,
  template: string,
  tasks: number,
  pollMs: number,
): Promise<Percentiles> {
  return withProvisionedApp(env, template, 4, async (app, worker) => {
    const verbs = httpVerbs(app.call, worker);
    const submitted = new Map<string, number>();
    const latencies: number[] = [];
    let creating = true;
    const poller = (async () => {
      while (creating || latencies.length < tasks) {
        const items = await verbs.claim("poller", 1);
        if (items.length === 0) {
          await sleep(pollMs);
          continue;
        }
        for (const item of items) {
          const claimedAt = now();
          await verbs.complete(item);
          const createdAt = submitted.get(item.task.id);
          if (createdAt === undefined)
            throw new Error("submit→claim: claimed a task before its create answered");
          latencies.push(claimedAt - createdAt);
        }
      }
    })();
    for (let i = 0; i < tasks; i++) {
      const task = await app.call<{ id: string }>(
        "POST",
        "/v1/tasks",
        { agent_id: worker.agentId, type: "noop" },
        worker.token,
      );
      submitted.set(task.id, now());
      await sleep(15 + (i % 7) * 5);
    }
    creating = false;
    await poller;
    return percentiles(latencies);
  });
}
