import { openDatabase } from "../../src/db/client.ts";
import type { AppOverrides } from "../../src/http/app-env.ts";

/**
 * An `openDatabase` that records every statement the app sends (and each dedicated connection a
 * transaction takes), the way test/node/statement-count.test.ts counts them.
 */
export function countingDatabase(): {
  statements: string[];
  openDatabase: NonNullable<AppOverrides["openDatabase"]>;
} {
  const statements: string[] = [];
  return {
    statements,
    openDatabase: (settings, onError) => {
      const handle = openDatabase(settings, onError);
      const query = handle.pool.query.bind(handle.pool) as (...args: unknown[]) => unknown;
      (handle.pool as unknown as { query: unknown }).query = (...args: unknown[]) => {
        const first = args[0];
        statements.push(typeof first === "string" ? first : String((first as { text?: string }).text));
        return query(...args);
      };
      const connect = handle.pool.connect.bind(handle.pool) as (...args: unknown[]) => unknown;
      (handle.pool as unknown as { connect: unknown }).connect = (...args: unknown[]) => {
        if (args.length === 0) statements.push("(dedicated connection)");
        return connect(...args);
      };
      return handle;
    },
  };
}
