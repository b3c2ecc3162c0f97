// Races on real parallel connections, and the database clock's edge: expiry == now() is expired.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/client.ts";
import { reclaimBatch, reclaimExpiredLeases } from "../../src/leases/reclaim.ts";
import { acquireTask } from "../../src/leases/repo.ts";
import { createAccountWithPrincipal } from "../support/factories.ts";
import { queryRows } from "../support/graph.ts";
import { ageHeartbeat, expireLease } from "../support/lease-helpers.ts";
import { callerFor } from "../support/service-context.ts";
import { callAs, createAgent, createTask } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";

describe("lease races", () => {
  const testApp = useTestApp();
  const open = () =>
    openDatabase({ databaseUrl: testApp.database.url, databaseWsProxy: testApp.database.proxy }, () => {});

  it("gives one task to exactly one of 64 parallel claimers, every round", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const call = callAs(testApp.client, owner);
    for (let round = 0; round < 3; round++) {
      const id = await createTask(testApp.client, owner, agentId);
      const responses = await Promise.all(
        Array.from({ length: 64 }, (_, i) =>
          call("POST", "/v1/leases", { agent_id: agentId, worker_id: `w${i}`, lease_seconds: 60 }),
        ),
      );
      expect(responses.every((response) => response.status === 200)).toBe(true);
      const winners = responses.flatMap((response) => response.body.items as { task: { id: string } }[]);
      expect(winners.map((winner) => winner.task.id)).toEqual([id]);
      await call("POST", `/v1/tasks/${id}/cancel`, { reason: "next round" });
    }
  });

  it("reclaims each lease once when two ticks overlap", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const call = callAs(testApp.client, owner);
    const ids = await Promise.all(
      Array.from({ length: 30 }, () => createTask(testApp.client, owner, agentId)),
    );
    await call("POST", "/v1/leases", { agent_id: agentId, worker_id: "w", lease_seconds: 60, max_tasks: 30 });
    for (const id of ids) await expireLease(testApp.database, id);
    const [a, b] = [open(), open()];
    try {
      const [first, second] = await Promise.all([
        reclaimExpiredLeases(a.db, 7),
        reclaimExpiredLeases(b.db, 7),
      ]);
      expect(first.reclaimed + second.reclaimed).toBe(30);
      expect(first.statements).toBeLessThanOrEqual(20);
      const events = await queryRows<{ n: number }>(
        testApp.database,
        "SELECT count(*)::int AS n FROM task_events WHERE type = 'lease_expired' AND task_id = ANY($1)",
        [ids],
      );
      expect(events[0]?.n).toBe(30);
      expect((await reclaimExpiredLeases(a.db)).reclaimed).toBe(0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("lets the reclaimer win over a heartbeat on an expired lease", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const call = callAs(testApp.client, owner);
    const id = await createTask(testApp.client, owner, agentId);
    await call("POST", "/v1/leases", { agent_id: agentId, worker_id: "w", lease_seconds: 60 });
    await expireLease(testApp.database, id, 0);
    await ageHeartbeat(testApp.database, id);
    const handle = open();
    try {
      const [beat, reclaimed] = await Promise.all([
        call("POST", `/v1/tasks/${id}/heartbeat`, { worker_id: "w", epoch: 1, lease_seconds: 60 }),
        reclaimBatch(handle.db),
      ]);
      expect(beat.status).toBe(409);
      expect(beat.body.code).toBe("lease_lost");
      expect(reclaimed.reclaimed).toBeGreaterThanOrEqual(1);
      expect((await call("GET", `/v1/tasks/${id}`)).body).toMatchObject({ state: "submitted", lease: null });
    } finally {
      await handle.close();
    }
  });

  it("treats a lease whose expiry equals now() as expired: acquire succeeds with epoch + 1", async () => {
    const owner = await createAccountWithPrincipal(testApp.client);
    const agentId = await createAgent(testApp.client, owner);
    const id = await createTask(testApp.client, owner, agentId);
    await callAs(testApp.client, owner)("POST", `/v1/tasks/${id}/lease`, {
      worker_id: "a",
      lease_seconds: 60,
    });
    const handle = open();
    try {
      // Inside one transaction now() is fixed, so the expiry is exactly the instant of the acquire.
      const granted = await handle.db.transaction(async (tx) => {
        await tx.execute(sql`UPDATE tasks SET lease_expires_at = now() WHERE id = ${id}`);
        return acquireTask({ db: tx, caller: callerFor(owner) }, id, sql`TRUE`, {
          workerId: "b",
          leaseSeconds: 30,
        });
      });
      expect(granted).toMatchObject({ lease_owner: "b" });
      expect(Number(granted?.lease_epoch)).toBe(2);
    } finally {
      await handle.close();
    }
  });
});
