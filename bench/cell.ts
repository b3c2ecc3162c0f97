// One measurement: a fresh database cloned from the system's template, M jobs enqueued with the
// system's bulk API (timed), ANALYZE, then N consumers drain them until the database confirms
// every job done (timed). Nothing is retried or skipped: a short count is an error.
import os from "node:os";
import pg from "pg";
import type { BenchEnvironment } from "./environment.ts";
import type { BenchSystem } from "./systems/system.ts";

export interface CellResult {
  system: string;
  jobs: number;
  consumers: number;
  enqueuePerSecond: number;
  drainSeconds: number;
  jobsPerSecond: number;
  loadBefore: number;
  /** Server-wide WAL written during the drain, per job (the bench runs one system at a time). */
  walRecordsPerJob: number;
  walBytesPerJob: number;
}

async function walTotals(url: string): Promise<{ records: number; bytes: number }> {
  const session = new pg.Client({ connectionString: url });
  await session.connect();
  try {
    const { rows } = await session.query<{ records: string; bytes: string }>(
      "SELECT wal_records::text AS records, wal_bytes::text AS bytes FROM pg_stat_wal",
    );
    return { records: Number(rows[0]?.records), bytes: Number(rows[0]?.bytes) };
  } finally {
    await session.end();
  }
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

export async function runCell(
  env: BenchEnvironment,
  system: BenchSystem,
  template: string,
  jobs: number,
  consumers: number,
): Promise<CellResult> {
  const database = await env.cloneDatabase(template);
  try {
    const run = await system.open(database.url, consumers);
    try {
      const enqueueStart = process.hrtime.bigint();
      await run.enqueue(jobs);
      const enqueueSeconds = seconds(enqueueStart);
      const session = new pg.Client({ connectionString: database.url });
      await session.connect();
      await session.query("ANALYZE");
      await session.query("CHECKPOINT");
      await session.end();
      const loadBefore = os.loadavg()[0] ?? 0;
      const walBefore = await walTotals(database.url);
      const drainStart = process.hrtime.bigint();
      await run.drain(consumers);
      const done = await run.countDone();
      const drainSeconds = seconds(drainStart);
      const walAfter = await walTotals(database.url);
      if (done !== jobs) throw new Error(`${system.id}: the database records ${done} of ${jobs} jobs done`);
      return {
        system: system.id,
        jobs,
        consumers,
        enqueuePerSecond: jobs / enqueueSeconds,
        drainSeconds,
        jobsPerSecond: jobs / drainSeconds,
        loadBefore,
        walRecordsPerJob: (walAfter.records - walBefore.records) / jobs,
        walBytesPerJob: (walAfter.bytes - walBefore.bytes) / jobs,
      };
    } finally {
      await run.close();
    }
  } finally {
    await database.drop();
  }
}
