// The `idempotency` cron job (DESIGN §8 step 4): records older than IDEMPOTENCY_TTL_HOURS are
// deleted in bounded batches under the job's budget, overlapping ticks never delete a record twice,
// and once a key's record is gone the same key and body create anew.
import { describe, expect, it } from "vitest";
import { type BudgetLimits, defaultJobBudget, unlimitedBudget } from "../../src/cron/budget.ts";
import { cronJobs } from "../../src/cron/jobs.ts";
import { runTick } from "../../src/cron/tick.ts";
import { openDatabase } from "../../src/db/client.ts";
import { purgeExpiredIdempotencyKeys } from "../../src/idempotency/purge.ts";
import { createAccountWithPrincipal, type TestPrincipal } from "../support/factories.ts";
import { queryRows } from "../support/graph.ts";
import { callAs, createAgent } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";

const ttlHours = 48;

describe("idempotency records expire", () => {
  const t = useTestApp();
  const purge = async (budget: BudgetLimits = defaultJobBudget) =>
    (
      await runTick(t.client.env, new Date(), {
        logSink: () => {},
        jobs: cronJobs.filter((job) => job.name === "idempotency"),
        budget,
      })
    ).idempotency ?? {};
  const records = async (accountId: string) =>
    (
      await queryRows<{ n: number }>(
        t.database,
        "SELECT count(*)::int AS n FROM idempotency_keys WHERE account_id = $1",
        [accountId],
      )
    )[0]?.n;
  const age = (accountId: string, hours: number) =>
    queryRows(
      t.database,
      "UPDATE idempotency_keys SET created_at = now() - make_interval(hours => $2) WHERE account_id = $1",
      [accountId, hours],
    );
  /** `count` stored records of one principal, created `hours` ago, written set-based. */
  const backdated = (principal: TestPrincipal, count: number, hours: number) =>
    queryRows(
      t.database,
      `INSERT INTO idempotency_keys (account_id, principal, operation, key, request_hash, response_status,
                                     response_body, created_at)
       SELECT $1, $2, 'create_task', 'key-' || g, 'hash', 201, '{}'::jsonb, now() - make_interval(hours => $3)
       FROM generate_series(1, $4::int) AS g`,
      [principal.accountId, `${principal.type}:${principal.id}`, hours, count],
    );

  it("keeps a key for the TTL; after the purge the same key and body create a new task", async () => {
    const owner = await createAccountWithPrincipal(t.client);
    const agentId = await createAgent(t.client, owner);
    const call = callAs(t.client, owner);
    const create = () =>
      call("POST", "/v1/tasks", { agent_id: agentId, type: "email" }, { "idempotency-key": "order-7" });
    const first = await create();
    expect(first.status).toBe(201);
    expect((await create()).body.id).toBe(first.body.id);

    // Just inside the TTL: kept, still a replay.
    await age(owner.accountId, ttlHours - 1);
    await purge();
    expect(await records(owner.accountId)).toBe(1);
    expect((await create()).body.id).toBe(first.body.id);

    await age(owner.accountId, ttlHours + 1);
    expect(await purge()).toEqual({ purged: 1, batches: 1, budget_spent: 0 });
    expect(await records(owner.accountId)).toBe(0);
    const again = await create();
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(first.body.id);
    // The original is untouched; the key now stands for the new task.
    expect((await call("GET", `/v1/tasks/${first.body.id}`)).status).toBe(200);
    expect((await create()).body.id).toBe(again.body.id);
  });

  it("deletes in batches of at most 1,000 and leaves younger records", async () => {
    const owner = await createAccountWithPrincipal(t.client);
    await backdated(owner, 2_500, ttlHours + 2);
    await queryRows(
      t.database,
      `INSERT INTO idempotency_keys (account_id, principal, operation, key, request_hash, created_at)
       VALUES ($1, 'user:young', 'create_task', 'young', 'hash', now() - make_interval(hours => $2))`,
      [owner.accountId, ttlHours - 1],
    );
    // Tests in this file share a database; earlier ones left nothing expired behind.
    expect(await purge()).toEqual({ purged: 2_500, batches: 3, budget_spent: 0 });
    expect(await records(owner.accountId)).toBe(1);
  });

  it("stops when the budget is spent, having taken the oldest first; the next tick finishes", async () => {
    const owner = await createAccountWithPrincipal(t.client);
    // key-1 is the oldest, key-1200 the youngest (still past the TTL).
    await queryRows(
      t.database,
      `INSERT INTO idempotency_keys (account_id, principal, operation, key, request_hash, created_at)
       SELECT $1, 'user:old', 'create_task', 'key-' || g, 'hash',
              now() - make_interval(hours => $2) - make_interval(mins => 1200 - g)
       FROM generate_series(1, 1200) AS g`,
      [owner.accountId, ttlHours + 1],
    );
    expect(await purge({ timeMs: 0, subrequests: 1_000 })).toEqual({
      purged: 0,
      batches: 0,
      budget_spent: 1,
    });
    expect(await records(owner.accountId)).toBe(1_200);

    const handle = openDatabase({ databaseUrl: t.database.url, databaseWsProxy: t.database.proxy }, () => {});
    try {
      let checks = 0;
      const oneBatch = { ...unlimitedBudget, exhausted: () => checks++ >= 1 };
      expect(await purgeExpiredIdempotencyKeys({ db: handle.db, budget: oneBatch }, ttlHours)).toEqual({
        purged: 1_000,
        batches: 1,
        budget_spent: 1,
      });
    } finally {
      await handle.close();
    }
    const left = await queryRows<{ key: string }>(
      t.database,
      "SELECT key FROM idempotency_keys WHERE account_id = $1 ORDER BY created_at",
      [owner.accountId],
    );
    expect(left.map((row) => row.key)).toEqual(Array.from({ length: 200 }, (_, i) => `key-${1_001 + i}`));

    expect(await purge()).toEqual({ purged: 200, batches: 1, budget_spent: 0 });
    expect(await records(owner.accountId)).toBe(0);
  });

  it("deletes each record once when three ticks purge at the same time", async () => {
    const owner = await createAccountWithPrincipal(t.client);
    await backdated(owner, 3_000, ttlHours + 3);
    const ticks = await Promise.all([purge(), purge(), purge()]);
    expect(ticks.reduce((sum, counts) => sum + (counts.purged ?? 0), 0)).toBe(3_000);
    expect(await records(owner.accountId)).toBe(0);
  });
});
