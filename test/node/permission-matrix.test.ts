// Who may do what to a task (DESIGN §6), checked over HTTP for every principal and action, with
// the graph in PostgreSQL and in a real SpiceDB.
import { beforeAll, describe, expect, it } from "vitest";
import {
  createAccount,
  createAccountWithPrincipal,
  createPrincipal,
  type TestPrincipal,
} from "../support/factories.ts";
import { spicedbForFile } from "../support/spicedb.ts";
import { callAs, createAgent, createTask } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";

type Role =
  | "owner"
  | "editor"
  | "viewer"
  | "worker"
  | "account admin"
  | "account member"
  | "other account"
  | "no key";
type Action = "read" | "update" | "cancel" | "delete" | "manage" | "create";

// Expected status per role and action, derived from authz/schema.zed by hand.
const expected: Record<Role, Record<Action, number>> = {
  owner: { read: 200, update: 200, cancel: 200, delete: 204, manage: 200, create: 404 },
  editor: { read: 200, update: 200, cancel: 403, delete: 403, manage: 403, create: 404 },
  viewer: { read: 200, update: 403, cancel: 403, delete: 403, manage: 403, create: 404 },
  worker: { read: 200, update: 200, cancel: 403, delete: 403, manage: 403, create: 201 },
  "account admin": { read: 200, update: 200, cancel: 200, delete: 204, manage: 200, create: 201 },
  "account member": { read: 404, update: 404, cancel: 404, delete: 404, manage: 404, create: 404 },
  "other account": { read: 404, update: 404, cancel: 404, delete: 404, manage: 404, create: 404 },
  "no key": { read: 401, update: 401, cancel: 401, delete: 401, manage: 401, create: 401 },
};
const actions: Action[] = ["read", "update", "cancel", "delete", "manage", "create"];

const backends = {
  postgres: () => ({}),
  spicedb: () => spicedbForFile().bindings,
};

describe.each(Object.keys(backends) as (keyof typeof backends)[])(
  "task permission matrix (%s backend)",
  (backend) => {
    const testApp = useTestApp({}, backends[backend]());
    const principals = {} as Record<Role, TestPrincipal | { token: string }>;
    let agentId: string;
    const tasks = new Map<string, string>();

    beforeAll(async () => {
      const client = testApp.client;
      const accountId = await createAccount(client);
      const agentOwner = await createPrincipal(client, accountId);
      const owner = await createPrincipal(client, accountId);
      const editor = await createPrincipal(client, accountId);
      const viewer = await createPrincipal(client, accountId);
      const worker = await createPrincipal(client, accountId, { type: "service_account", id: "worker-1" });
      const admin = await createPrincipal(client, accountId, { role: "admin" });
      const member = await createPrincipal(client, accountId);
      const outsider = await createAccountWithPrincipal(client, { role: "admin" });
      Object.assign(principals, {
        owner,
        editor,
        viewer,
        worker,
        "account admin": admin,
        "account member": member,
        "other account": outsider,
        "no key": { token: "" },
      });

      agentId = await createAgent(client, agentOwner);
      const asAgentOwner = callAs(client, agentOwner);
      const grant = { subject: { type: "user", id: owner.id }, relation: "editor" };
      await asAgentOwner("POST", `/v1/agents/${agentId}/grants`, grant);
      await asAgentOwner("POST", `/v1/agents/${agentId}/grants`, {
        subject: { type: "service_account", id: worker.id },
        relation: "worker",
      });
      for (const role of Object.keys(expected)) {
        for (const action of actions) {
          const id = await createTask(client, owner, agentId);
          await callAs(client, owner)("POST", `/v1/tasks/${id}/grants`, {
            subject: { type: "user", id: editor.id },
            relation: "editor",
          });
          await callAs(client, owner)("POST", `/v1/tasks/${id}/grants`, {
            subject: { type: "user", id: viewer.id },
            relation: "viewer",
          });
          tasks.set(`${role}/${action}`, id);
        }
      }
      // From here on the owner holds only its ownership of each task.
      await asAgentOwner("DELETE", `/v1/agents/${agentId}/grants`, grant);
    });

    const cases = (Object.keys(expected) as Role[]).flatMap((role) =>
      actions.map((action) => [role, action, expected[role][action]] as const),
    );

    it.each(cases)("%s: %s → %i", async (role, action, status) => {
      const call = callAs(testApp.client, principals[role]);
      const id = tasks.get(`${role}/${action}`) as string;
      const response = await {
        read: () => call("GET", `/v1/tasks/${id}`),
        update: () => call("POST", `/v1/tasks/${id}/progress`, { progress: 1 }),
        cancel: () => call("POST", `/v1/tasks/${id}/cancel`, { reason: "matrix" }),
        delete: () => call("DELETE", `/v1/tasks/${id}`),
        manage: () =>
          call("POST", `/v1/tasks/${id}/grants`, {
            subject: { type: "user", id: "someone" },
            relation: "viewer",
          }),
        create: () => call("POST", "/v1/tasks", { agent_id: agentId, type: "matrix" }),
      }[action]();
      expect(response.status, response.text).toBe(status);
    });
  },
);
