// Statements each transition costs, counted at the driver: over HTTP (authentication + the
// transition) and through the services alone (the transition).
import { sql } from "drizzle-orm";
import type { BenchEnvironment } from "../environment.ts";
import { withProvisionedApp } from "../leasehold-app.ts";
import { serviceContext, serviceVerbs } from "../systems/leasehold.ts";

export interface StatementCounts {
  request: string;
  statements: number;
}

/** Over HTTP, authentication is one statement of its own. */
export const authenticationStatements = 1;

type Granted = { task: { id: string }; lease: { worker_id: string; epoch: number } };

export async function countTransitionStatements(
  env: BenchEnvironment,
  template: string,
): Promise<StatementCounts[]> {
  return withProvisionedApp(env, template, 2, async (app, worker) => {
    const call = <T>(method: string, path: string, body?: unknown) =>
      app.call<T>(method, path, body, worker.token);
    await call("POST", "/v1/tasks/batch", {
      agent_id: worker.agentId,
      tasks: Array.from({ length: 7 }, () => ({ type: "noop" })),
    });
    const counts: StatementCounts[] = [];
    const measure = async <T>(request: string, run: () => Promise<T>): Promise<T> => {
      app.statements.count = 0;
      const result = await run();
      counts.push({ request, statements: app.statements.count });
      return result;
    };
    const one = await measure("POST /v1/leases (max_tasks 1)", () =>
      call<{ items: Granted[] }>("POST", "/v1/leases", {
        agent_id: worker.agentId,
        worker_id: "w",
        lease_seconds: 600,
      }),
    );
    const granted = one.items[0] as Granted;
    const token = { worker_id: "w", epoch: granted.lease.epoch };
    // Heartbeats are limited to one per TTL/6; age the last one as a long-running worker's would be.
    await app.db.execute(
      sql`UPDATE tasks SET last_heartbeat_at = now() - interval '1 hour' WHERE id = ${granted.task.id}`,
    );
    await measure("POST /v1/tasks/{id}/heartbeat", () =>
      call("POST", `/v1/tasks/${granted.task.id}/heartbeat`, { ...token, lease_seconds: 600 }),
    );
    await measure("POST /v1/tasks/{id}/complete", () =>
      call("POST", `/v1/tasks/${granted.task.id}/complete`, { ...token, result: null }),
    );
    const batch = await measure("POST /v1/leases (max_tasks 5)", () =>
      call<{ items: Granted[] }>("POST", "/v1/leases", {
        agent_id: worker.agentId,
        worker_id: "w",
        max_tasks: 5,
      }),
    );
    await measure("POST /v1/tasks/batch-complete (5 tasks)", () =>
      call("POST", "/v1/tasks/batch-complete", {
        items: batch.items.map((item) => ({
          id: item.task.id,
          worker_id: "w",
          epoch: item.lease.epoch,
          result: null,
        })),
      }),
    );
    // The same two transitions through the services, without HTTP and authentication.
    const verbs = serviceVerbs(await serviceContext(app, worker), worker);
    const [floorClaim] = await measure("claim (service, no HTTP)", () => verbs.claim("w2", 1));
    await measure("complete (service, no HTTP)", () => verbs.complete(floorClaim as Granted));
    return counts;
  });
}
