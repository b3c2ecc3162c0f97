// `npm run bench:profile`: one leasehold drain (the SQL floor unless LAYER=http) on a fresh
// embedded PostgreSQL, with what the database did for it: per statement the calls, mean planning
// and execution time and WAL, then the WAL per job by record type and by relation. It answers
// "where does a job's time go", which the ratios of `npm run bench` cannot. Not a benchmark: the
// statistics extensions cost time of their own.
//   JOBS (2000), N consumers (16), BATCHED=1 (claim 100, batch-complete), LAYER=sql|http
import pg from "pg";
import { startBenchEnvironment } from "./environment.ts";
import { leaseholdSystem } from "./systems/leasehold.ts";

process.env.BENCH_PGSS = "1";
const jobs = Number(process.env.JOBS ?? 2000);
const consumers = Number(process.env.N ?? 16);
const layer = process.env.LAYER === "http" ? "http" : "sql";
const batched = process.env.BATCHED === "1";

const env = await startBenchEnvironment();
const system = leaseholdSystem({ layer, driver: "pg", batched, proxyAddress: env.proxyAddress });
const db = await env.cloneDatabase(await env.createTemplate("lh", system.buildTemplate));
const run = await system.open(db.url, consumers);
const session = new pg.Client({ connectionString: db.url });
try {
  await run.enqueue(jobs);
  await session.connect();
  for (const statement of [
    "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
    "CREATE EXTENSION IF NOT EXISTS pg_walinspect",
    "ALTER SYSTEM SET pg_stat_statements.track = 'all'",
    "SELECT pg_reload_conf()",
    "CHECKPOINT",
    "SELECT pg_stat_statements_reset()",
  ])
    await session.query(statement);
  const lsn = async () =>
    (await session.query<{ lsn: string }>("SELECT pg_current_wal_insert_lsn()::text AS lsn")).rows[0]?.lsn;
  const start = await lsn();
  const started = performance.now();
  await run.drain(consumers);
  const ms = performance.now() - started;
  const end = await lsn();
  console.log(
    `${system.label}, ${jobs} jobs, N=${consumers}: ${ms.toFixed(0)} ms, ${((jobs * 1000) / ms).toFixed(0)} jobs/s`,
  );
  const statements = await session.query(
    `SELECT calls, plans, round(mean_plan_time::numeric, 3) AS plan_ms, round(mean_exec_time::numeric, 3) AS exec_ms,
            round(wal_records::numeric / greatest(calls, 1), 1) AS wal_records,
            round(wal_bytes::numeric / greatest(calls, 1)) AS wal_bytes, toplevel,
            left(regexp_replace(query, '\\s+', ' ', 'g'), 90) AS query
       FROM pg_stat_statements WHERE calls >= 10
      ORDER BY total_exec_time + total_plan_time DESC LIMIT 10`,
  );
  console.table(statements.rows);
  // Only flushed WAL can be read; the switch flushes and closes the segment.
  await session.query("SELECT pg_switch_wal()");
  const byType = await session.query(
    `SELECT "resource_manager/record_type" AS record, count,
            round(count::numeric / $3, 2) AS per_job, round(combined_size::numeric / $3) AS bytes_per_job
       FROM pg_get_wal_stats($1::pg_lsn, $2::pg_lsn, true) WHERE count > 0 ORDER BY count DESC`,
    [start, end, jobs],
  );
  console.table(byType.rows);
  const byRelation = await session.query(
    `SELECT resource_manager || '/' || record_type AS record, coalesce(relation::regclass::text, '') AS relation,
            round(count(*)::numeric / $3, 2) AS per_job
       FROM (SELECT r.*, (regexp_match(block_ref, 'rel \\d+/\\d+/(\\d+)'))[1]::oid AS relation
               FROM pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn) r) records
      GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 25`,
    [start, end, jobs],
  );
  console.table(byRelation.rows);
} finally {
  await session.end().catch(() => {});
  await run.close();
  await db.drop();
  await env.close();
}
