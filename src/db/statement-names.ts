// Names statements after their text (ADR 0010). A connection that runs a named statement again
// skips parsing it, and after a few runs PostgreSQL may reuse a generic plan. Our statements are
// few and fixed (values always travel as parameters), so names are assigned once per text and
// capped; an unnamed statement behaves exactly as before.

export const maxStatementNames = 1000;

export class StatementNames {
  readonly #names = new Map<string, string>();
  constructor(readonly limit = maxStatementNames) {}

  /** The name for this text, or undefined once the cap is reached. */
  nameFor(text: string): string | undefined {
    let name = this.#names.get(text);
    if (name === undefined && this.#names.size < this.limit) {
      name = `lh_${this.#names.size}`;
      this.#names.set(text, name);
    }
    return name;
  }
}

type QueryConfig = { text?: unknown; name?: unknown };
type Queryable = { query: (...args: unknown[]) => unknown };

/** Makes `pool.query` send every unnamed `{ text }` query config as a named statement. */
export function nameStatements<P extends Queryable>(pool: P, names: StatementNames): P {
  const query = pool.query.bind(pool);
  pool.query = (...args: unknown[]) => {
    const config = args[0] as QueryConfig | undefined;
    if (
      config &&
      typeof config === "object" &&
      typeof config.text === "string" &&
      config.name === undefined
    ) {
      const name = names.nameFor(config.text);
      if (name !== undefined) args[0] = { ...config, name };
    }
    return query(...args);
  };
  return pool;
}
