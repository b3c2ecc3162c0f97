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

async function onSession<T>(url: string, run: (session: pg.Client) => Promise<T>): Promise<T> {
  const session = new pg.Client({ connectionString: url });
  await session.connect();
  try {
    return await run(session);
  } finally {
    await session.end();
  }
}

const walPosition = (url: string) =>
  onSession(
    url,
    async (s) =>
      (await s.query<{ lsn: string }>("SELECT pg_current_wal_insert_lsn()::text AS lsn")).rows[0]
        ?.lsn as string,
  );

/**
 * The WAL between two positions, server-wide (one system runs at a time), read from the WAL
 * itself with pg_walinspect; NaN where the extension cannot be created (a managed server).
 */
async function walBetween(
  url: string,
  from: string,
  to: string,
): Promise<{ records: number; bytes: number }> {
  return onSession(url, async (s) => {
    try {
      // Only flushed WAL can be read; with synchronous_commit off the window's tail may not be.
      // A synchronous commit of a transaction with an xid flushes everything before it (a
      // checkpoint would too, but may recycle the window's segments).
      await s.query("SET synchronous_commit = on");
      await s.query("SELECT txid_current()");
      await s.query("CREATE EXTENSION IF NOT EXISTS pg_walinspect");
      const { rows } = await s.query<{ records: string; bytes: string }>(
        `SELECT sum(count)::text AS records, pg_wal_lsn_diff($2::pg_lsn, $1::pg_lsn)::text AS bytes
         FROM pg_get_wal_stats($1::pg_lsn, $2::pg_lsn)`,
        [from, to],
      );
      return { records: Number(rows[0]?.records), bytes: Number(rows[0]?.bytes) };
    } catch {
      return { records: Number.NaN, bytes: Number.NaN };
    }
  });
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
      const walFrom = await walPosition(database.url);
      const drainStart = process.hrtime.bigint();
      await run.drain(consumers);
      const done = await run.countDone();
      const drainSeconds = seconds(drainStart);
      const walTo = await walPosition(database.url);
      if (done !== jobs) throw new Error(`${system.id}: the database records ${done} of ${jobs} jobs done`);
      const wal = await walBetween(database.url, walFrom, walTo);
      return {
        system: system.id,
        jobs,
        consumers,
        enqueuePerSecond: jobs / enqueueSeconds,
        drainSeconds,
        jobsPerSecond: jobs / drainSeconds,
        loadBefore,
        walRecordsPerJob: wal.records / jobs,
        walBytesPerJob: wal.bytes / jobs,
      };
    } finally {
      await run.close();
    }
  } finally {
    await database.drop();
  }
}
