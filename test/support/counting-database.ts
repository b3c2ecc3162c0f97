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
    openDatabase: (settings, onError) =>
      openDatabase(settings, onError, {
        statement: ({ text }) => void statements.push(text),
        connection: () => void statements.push("(dedicated connection)"),
      }),
  };
}
