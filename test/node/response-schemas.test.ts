import type { z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { account } from "../../src/routes/admin/accounts.ts";
import { issuedKey } from "../../src/routes/admin/api-keys.ts";
import { createdAgentKey } from "../../src/routes/agent-keys.ts";
import { agent } from "../../src/routes/agents.ts";
import { schedule } from "../../src/routes/schedules.ts";
import { task, taskEvent } from "../../src/routes/task-schemas.ts";
import { adminToken, createAccountWithPrincipal } from "../support/factories.ts";
import { callAs, createAgent, createTask, type Json } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";

// The response schemas are derived from the drizzle tables (src/routes/row-schema.ts); the views
// are written by hand in the domain. tsc checks a view has every key its schema declares; this
// checks the converse at run time: each real response parses strictly, with no key the schema lacks.
const exactly = (schema: z.ZodObject, body: unknown) => schema.strict().parse(body);

describe("response schemas derived from the tables", () => {
  const testApp = useTestApp();

  it("fit what the API returns for accounts, keys, agents, agent keys, schedules, tasks and events", async () => {
    const accountResponse = await testApp.client.request<Json>("POST", "/v1/admin/accounts", {
      token: adminToken(testApp.client),
      body: { name: `account-${crypto.randomUUID()}` },
    });
    exactly(account, accountResponse.body);
    const keyResponse = await testApp.client.request<Json>("POST", "/v1/admin/api-keys", {
      token: adminToken(testApp.client),
      body: {
        account_id: accountResponse.body.id,
        principal: { type: "user", id: "ada@example.com" },
        role: "admin",
      },
    });
    exactly(issuedKey, keyResponse.body);

    const owner = await createAccountWithPrincipal(testApp.client);
    const call = callAs(testApp.client, owner);
    const agentId = await createAgent(testApp.client, owner);
    exactly(agent, (await call("GET", `/v1/agents/${agentId}`)).body);
    const key = await call("POST", `/v1/agents/${agentId}/api-keys`);
    expect(key.status).toBe(201);
    exactly(createdAgentKey, key.body);

    const created = await call("POST", `/v1/agents/${agentId}/schedules`, {
      name: "nightly",
      cron: "0 3 * * *",
      task: { type: "report", input: { scope: "all" } },
    });
    expect(created.status).toBe(201);
    exactly(schedule, created.body);

    const taskId = await createTask(testApp.client, owner, agentId, { metadata: { team: "a" } });
    exactly(task, (await call("GET", `/v1/tasks/${taskId}`)).body);
    const claimed = await call("POST", "/v1/leases", { agent_id: agentId, worker_id: "w1" });
    const [item] = claimed.body.items as { task: Json }[];
    const leased = exactly(task, item?.task);
    expect(leased.lease).toMatchObject({ worker_id: "w1", epoch: 1 });

    const events = await call("GET", `/v1/tasks/${taskId}/events`);
    const items = events.body.items as Json[];
    expect(items.map((event) => exactly(taskEvent, event).type)).toEqual(["created", "lease_granted"]);
  });

  it("refuse a response with a key the table does not declare, or a timestamp that is not ISO 8601", () => {
    const row = {
      id: "acc_1",
      name: "a",
      created_at: "2026-12-02T10:00:00.000Z",
    };
    expect(exactly(account, row)).toEqual(row);
    expect(() => exactly(account, { ...row, extra: 1 })).toThrow();
    expect(() => exactly(account, { ...row, created_at: "yesterday" })).toThrow();
    expect(() => exactly(account, { ...row, name: null })).toThrow();
  });
});
