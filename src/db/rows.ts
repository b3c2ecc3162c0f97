// Row shapes derived from the drizzle tables, for statements written in SQL: the column list a
// statement selects, the type of the row it returns (keys are the column names), and the one
// decoding step the driver leaves to us (int8 arrives as text; drizzle's `mode: "number"` says
// which columns are numbers).
import { getTableColumns, type SQL, sql, type Table } from "drizzle-orm";

type Columns<T extends Table> = T["_"]["columns"];
type ValueOf<C> = C extends { _: { data: infer D; notNull: infer N } }
  ? N extends true
    ? D
    : D | null
  : never;

/** A row of `T` as SQL returns it: one key per column name, typed as drizzle declares it. */
export type RowOf<T extends Table> = {
  [K in keyof Columns<T> as Columns<T>[K]["_"]["name"]]: ValueOf<Columns<T>[K]>;
};

type ColumnName<T extends Table> = keyof RowOf<T> & string;

/**
 * The table's columns in declaration order as a select list: all of them, or `only` those, each
 * qualified by `alias` when the statement joins.
 */
export function columnList<T extends Table>(
  table: T,
  options: { only?: readonly ColumnName<T>[]; alias?: string } = {},
): SQL {
  const names = Object.values(getTableColumns(table))
    .map((column) => column.name)
    .filter((name) => options.only === undefined || options.only.includes(name as ColumnName<T>));
  return sql.raw(names.map((name) => (options.alias ? `${options.alias}.${name}` : name)).join(", "));
}

/** Decodes the columns the driver hands over as text (int8 in number mode); other keys pass through. */
export function rowDecoder<T extends Table>(table: T) {
  const numeric = Object.values(getTableColumns(table))
    .filter((column) => column.columnType === "PgBigInt53")
    .map((column) => column.name);
  return <R extends Record<string, unknown>>(row: R): R => {
    const decoded: Record<string, unknown> = { ...row };
    for (const name of numeric) {
      const value = decoded[name];
      if (typeof value === "string") decoded[name] = Number(value);
    }
    return decoded as R;
  };
}
