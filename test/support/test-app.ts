import { afterAll, beforeAll } from "vitest";
import { createApp } from "../../src/app.ts";
import type { AppOverrides } from "../../src/http/app-env.ts";
import { testBindings } from "./bindings.ts";
import { createTestClient, type TestClient } from "./test-client.ts";
import { createTestDatabase, type TestDatabase } from "./test-database.ts";

export interface TestApp {
  database: TestDatabase;
  client: TestClient;
}

/**
 * Gives the calling test file a database of its own and an in-process app bound to it (plus any
 * extra bindings, e.g. the spicedb backend's), created before its tests and dropped after. Read the fields inside tests or hooks, not at import time.
 */
export function useTestApp(overrides: AppOverrides = {}, bindings: Record<string, unknown> = {}): TestApp {
  const state = {} as TestApp;
  beforeAll(async () => {
    state.database = await createTestDatabase();
    state.client = createTestClient(createApp(overrides), testBindings(state.database, bindings));
  });
  afterAll(() => state.database?.drop());
  return state;
}
