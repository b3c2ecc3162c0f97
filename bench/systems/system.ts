/** One queue system under test, in one mode (unbatched or batched). */
export interface BenchSystem {
  id: string;
  label: string;
  batched: boolean;
  /** Installs the system's schema into an empty database, once per run; cells clone it. */
  buildTemplate(url: string): Promise<void>;
  /** Connects to a fresh clone sized for `consumers`; provisioning here is not timed. */
  open(url: string, consumers: number): Promise<SystemRun>;
}

export interface SystemRun {
  /** Bulk-inserts `count` no-op jobs with the system's own bulk API. */
  enqueue(count: number): Promise<void>;
  /** Runs `consumers` concurrent consumers whose handler does nothing until the queue is empty. */
  drain(consumers: number): Promise<void>;
  /** Jobs the database records as done (completed, or deleted on completion). */
  countDone(): Promise<number>;
  close(): Promise<void>;
}

/** Bulk APIs take at most this many jobs per call here (leasehold's batch-create limit). */
export const enqueueChunk = 1000;

export async function inChunks(count: number, insert: (size: number, offset: number) => Promise<void>) {
  for (let offset = 0; offset < count; offset += enqueueChunk) {
    await insert(Math.min(enqueueChunk, count - offset), offset);
  }
}

/**
 * `consumers` loops, each claiming and completing until a claim comes back empty. A claim that
 * comes back empty while others still hold work is fine: they finish their own.
 */
export async function consumeUntilEmpty(
  consumers: number,
  step: (consumer: number) => Promise<number>,
): Promise<void> {
  await Promise.all(
    Array.from({ length: consumers }, async (_, consumer) => {
      while ((await step(consumer)) > 0) {}
    }),
  );
}
