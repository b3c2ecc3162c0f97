// graphile-worker through its own API: addJobs() to enqueue, run() with `concurrency` consumers.
// It deletes a job when it completes, so "done" is the jobs that are no longer in its table.
import { Logger, makeWorkerUtils, run, runMigrations } from "graphile-worker";
import pg from "pg";
import type { BenchSystem } from "./system.ts";
import { inChunks } from "./system.ts";

const task = "noop";

export function graphileWorkerSystem(batched: boolean): BenchSystem {
  return {
    id: `graphile-worker${batched ? "-batched" : ""}`,
    label: batched ? "graphile-worker (local queue 100, batched completes)" : "graphile-worker",
    batched,
    async buildTemplate(url) {
      await runMigrations({ connectionString: url, logger: silentLogger });
    },
    async open(url, consumers) {
      // Its usual pool (concurrency + 2 connections), owned by the cell so that nothing is still
      // connected when the cell's database is dropped.
      const pool = new pg.Pool({ connectionString: url, max: consumers + 2 });
      pool.on("error", () => {});
      pool.on("connect", (client) => client.on("error", () => {}));
      const utils = await makeWorkerUtils({ pgPool: pool, logger: silentLogger });
      const counter = new pg.Client({ connectionString: url });
      await counter.connect();
      let enqueued = 0;
      const remaining = async () =>
        (await counter.query<{ n: number }>("SELECT count(*)::int AS n FROM graphile_worker._private_jobs"))
          .rows[0]?.n ?? 0;
      return {
        enqueue: (count) =>
          inChunks(count, async (size) => {
            await utils.addJobs(Array.from({ length: size }, () => ({ identifier: task, payload: {} })));
            enqueued += size;
          }),
        async drain(n) {
          let finished = 0;
          let wake: () => void = () => {};
          const allFinished = new Promise<void>((resolve) => {
            wake = resolve;
          });
          const runner = await run({
            pgPool: pool,
            concurrency: n,
            noHandleSignals: true,
            pollInterval: 1000,
            logger: silentLogger,
            taskList: {
              [task]: async () => {
                if (++finished >= enqueued) queueMicrotask(wake);
              },
            },
            preset: {
              worker: {
                ...(batched ? { localQueue: { size: 100 }, completeJobBatchDelay: 0 } : {}),
              },
            },
          });
          await allFinished;
          // The last handlers have returned; wait until their completions are committed.
          while ((await remaining()) > 0) await new Promise((resolve) => setTimeout(resolve, 5));
          await runner.stop();
        },
        countDone: async () => enqueued - (await remaining()),
        async close() {
          await counter.end();
          await utils.release();
          await pool.end();
        },
      };
    },
  };
}

const silentLogger = new Logger(() => () => {});
