// Independent SpiceDB calls run side by side, but never more than a Worker may have open at once.

/** Workers allow 6 simultaneous outgoing connections per invocation. */
export const maxConcurrentCalls = 6;

export interface BoundedOutcome<T> {
  /** Items whose work finished. */
  done: T[];
  /** The first failure; no item started after it. */
  error?: unknown;
}

/**
 * Runs `work` for each item in order, at most `concurrency` at a time. No new item starts once one
 * has failed or `mayStart` refuses it (e.g. a spent budget); those in flight finish. Items not in
 * `done` are still to do.
 */
export async function forEachBounded<T>(
  items: readonly T[],
  work: (item: T) => Promise<void>,
  options: { concurrency?: number; mayStart?: (item: T) => boolean } = {},
): Promise<BoundedOutcome<T>> {
  const outcome: BoundedOutcome<T> = { done: [] };
  let next = 0;
  let stopped = false;
  const lane = async () => {
    while (!stopped && next < items.length) {
      const item = items[next] as T;
      if (options.mayStart && !options.mayStart(item)) {
        stopped = true;
        return;
      }
      next++;
      try {
        await work(item);
        outcome.done.push(item);
      } catch (error) {
        outcome.error ??= error;
        stopped = true;
      }
    }
  };
  const lanes = Math.max(1, Math.min(options.concurrency ?? maxConcurrentCalls, items.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  return outcome;
}
