import { randomHex } from "../../src/lib/crypto.ts";
import type { TestDatabase } from "./test-database.ts";

/** Worker bindings for a test file: its own database and admin token, production defaults otherwise. */
export function testBindings(
  database: TestDatabase,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    DATABASE_URL: database.url,
    ...(database.proxy ? { DATABASE_WS_PROXY: database.proxy } : {}),
    ADMIN_TOKEN: `adm_${randomHex(24)}`,
    ENVIRONMENT: "test",
    ...extra,
  };
}
