// Real resources for the route fuzzer: one principal owning an agent with tasks in several states,
// a schedule and an agent key, so fuzzed requests sometimes name things that exist.
import { createAccountWithPrincipal, type TestPrincipal } from "./factories.ts";
import type { Fixtures } from "./openapi-fuzz.ts";
import { callAs, createAgent, createTask } from "./task-factories.ts";
import type { TestClient } from "./test-client.ts";

export async function seedFuzzFixtures(
  client: TestClient,
): Promise<{ owner: TestPrincipal; fixtures: Fixtures }> {
  const owner = await createAccountWithPrincipal(client);
  const call = callAs(client, owner);
  const ok = async (method: string, path: string, body?: unknown) => {
    const response = await call(method, path, body);
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.text}`);
    return response.body;
  };
  const agent = await createAgent(client, owner, "fuzz-agent");
  const worker = { worker_id: "fuzz-worker" };
  const leased = async (id: string) =>
    (
      (await ok("POST", `/v1/tasks/${id}/lease`, { ...worker, lease_seconds: 3600 })).lease as {
        epoch: number;
      }
    ).epoch;

  const submitted = await createTask(client, owner, agent, { name: "fuzz-named", input: { n: 1 } });
  const working = await createTask(client, owner, agent);
  await leased(working);
  const completed = await createTask(client, owner, agent);
  await ok("POST", `/v1/tasks/${completed}/complete`, {
    result: { ok: true },
    ...worker,
    epoch: await leased(completed),
  });
  const compensating = await createTask(client, owner, agent);
  const epoch = await leased(compensating);
  await ok("POST", `/v1/tasks/${compensating}/compensations`, {
    kind: "refund",
    target: "order-1",
    ...worker,
    epoch,
  });
  await ok("POST", `/v1/tasks/${compensating}/fail`, { error: { m: "x" }, ...worker, epoch });

  const schedule = await ok("POST", `/v1/agents/${agent}/schedules`, {
    name: "fuzz-schedule",
    cron: "0 0 1 1 *",
    paused: true,
    task: { type: "fuzz" },
  });
  const agentKey = await ok("POST", `/v1/agents/${agent}/api-keys`);
  return {
    owner,
    fixtures: {
      ids: {
        acc: [owner.accountId],
        agt: [agent],
        tsk: [submitted, working, completed, compensating],
        sch: [schedule.id as string],
        key: [agentKey.id as string, owner.keyId],
      },
      taskNames: ["fuzz-named"],
    },
  };
}
