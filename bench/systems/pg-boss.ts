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
      const boss = new PgBoss({ connectionString: url, ...quiet });
      boss.on("error", () => {});
      await boss.start();
      await boss.createQueue(queue);
      await boss.stop({ graceful: false });
    },
    async open(url, consumers) {
      const boss = new PgBoss({ connectionString: url, max: consumers + 2, migrate: false, ...quiet });
      boss.on("error", (error) => console.error(`pg-boss: ${error.message}`));
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
          await counter.end();
          await boss.stop({ graceful: false });
        },
      };
    },
  };
}
