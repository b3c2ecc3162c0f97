// The backfill registers what creates would have (DESIGN §6): agent keys too (their api_key
// resource and the agent's worker edge), and an agent key never becomes an account member.
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { testBindings } from "../support/bindings.ts";
import { adminToken, createAccountWithPrincipal } from "../support/factories.ts";
import { spicedbForFile } from "../support/spicedb.ts";
import { callAs, createAgent, createTask } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";
import { createTestClient } from "../support/test-client.ts";

describe("authz backfill", () => {
  const spicedb = spicedbForFile();
  const testApp = useTestApp({ logSink: () => {} });
  const backends = {
    postgres: {},
    spicedb: spicedb.bindings,
  };

  it.each(Object.keys(backends) as (keyof typeof backends)[])(
    "registers agent keys created while their flags were off, without account membership (%s)",
    async (backend) => {
      const bindings = (flags: Record<string, string>) => {
        const env = testBindings(testApp.database, { ...backends[backend], ...flags });
        return { ...env, ADMIN_TOKEN: testApp.client.env.ADMIN_TOKEN };
      };
      const off = createTestClient(
        createApp({ logSink: () => {} }),
        bindings({ FGAC_AGENTS: "off", FGAC_API_KEYS: "off" }),
      );
      const enforce = createTestClient(createApp({ logSink: () => {} }), bindings({}));
      const owner = await createAccountWithPrincipal(off, { role: "admin" });
      const agentId = await createAgent(off, owner);
      await createTask(off, owner, agentId);
      const key = await callAs(off, owner)("POST", `/v1/agents/${agentId}/api-keys`);
      expect(key.status).toBe(201);
      const worker = callAs(enforce, { token: key.body.key as string });
      expect((await worker("POST", "/v1/leases", { agent_id: agentId, worker_id: "w" })).status).toBe(404);

      for (const resourceType of ["account", "agent", "task", "api_key"]) {
        const response = await enforce.request<Record<string, unknown>>("POST", "/v1/admin/authz/backfill", {
          token: adminToken(enforce),
          body: { resource_type: resourceType },
        });
        expect(response.status).toBe(200);
      }
      const claim = await worker("POST", "/v1/leases", { agent_id: agentId, worker_id: "w" });
      expect(claim.status).toBe(200);
      expect(claim.body.items).toHaveLength(1);
      // The key's service account is the agent's worker, not a member who may create agents.
      expect((await worker("POST", "/v1/agents", { name: "not-mine" })).status).toBe(403);
      const keys = await callAs(enforce, owner)("GET", `/v1/agents/${agentId}/api-keys`);
      expect(keys.body.items).toMatchObject([{ id: key.body.id }]);
    },
  );
});
