// pg-boss through its own API: insert() to enqueue, fetch() + complete() to consume (its work()
// polls on an interval of at least half a second, which would measure the timer, not the queue).
import pg from "pg";
import { PgBoss } from "pg-boss";
import { type BenchSystem, consumeUntilEmpty, inChunks } from "./system.ts";

const queue = "bench";
const quiet = { supervise: false, schedule: false };

export function pgBossSystem(batched: boolean): BenchSystem {
  return {
    id: `pg-boss${batched ? "-batched" : ""}`,
    label: batched ? "pg-boss (batchSize 100)" : "pg-boss",
    batched,
    async buildTemplate(url) {
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      pool.on("error", () => {});
      const boss = new PgBoss({
        db: { executeSql: (text: string, values?: unknown[]) => pool.query(text, values) },
        ...quiet,
      });
      boss.on("error", () => {});
      await boss.start();
      await boss.createQueue(queue);
      await boss.stop({ graceful: false });
      await pool.end();
    },
    async open(url, consumers) {
      // pg-boss's own kind of pool, handed in so the cell owns its lifetime: pg-boss can still be
      // opening a connection when stop() returns, and the cell's DROP DATABASE would end it.
      const pool = new pg.Pool({ connectionString: url, max: consumers + 2 });
      pool.on("error", () => {});
      const db = { executeSql: (text: string, values?: unknown[]) => pool.query(text, values) };
      const boss = new PgBoss({ db, migrate: false, ...quiet });
      let closing = false;
      // Once stopping, its pool reports the connections the cell's DROP DATABASE ends; not errors.
      boss.on("error", (error) => {
        if (!closing) console.error(`pg-boss: ${error.message}`);
      });
      await boss.start();
      const counter = new pg.Client({ connectionString: url });
      await counter.connect();
      return {
        enqueue: (count) =>
          inChunks(count, async (size) => {
            await boss.insert(
              queue,
              Array.from({ length: size }, () => ({ data: {} })),
            );
          }),
        drain: (n) =>
          consumeUntilEmpty(n, async () => {
            const jobs = await boss.fetch(queue, { batchSize: batched ? 100 : 1 });
            if (jobs.length === 0) return 0;
            await boss.complete(
              queue,
              jobs.map((job) => job.id),
            );
            return jobs.length;
          }),
        async countDone() {
          const result = await counter.query<{ done: number }>(
            "SELECT count(*)::int AS done FROM pgboss.job WHERE name = $1 AND state = 'completed'",
            [queue],
          );
          return result.rows[0]?.done ?? 0;
        },
        async close() {
          closing = true;
          await counter.end();
          await boss.stop({ graceful: false });
          await pool.end();
        },
      };
    },
  };
}
