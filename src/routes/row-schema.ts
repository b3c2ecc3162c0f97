// Response schemas derived from the drizzle tables: drizzle-zod maps each column (type, integer
// range, enum values, nullability) and this module renders it as the API shows rows — keyed by
// column name, the way SQL returns them and the views pass them on, timestamps as ISO 8601 text
// and json columns as any JSON value. A response schema picks the columns its view shows and
// adds what the view computes (lease, created_by, a2a_state), so a column is declared once.
import { z } from "@hono/zod-openapi";
import { getTableColumns, type Table } from "drizzle-orm";
import { createSchemaFactory } from "drizzle-zod";

const { createSelectSchema } = createSchemaFactory({ zodInstance: z });

type Columns<T extends Table> = T["_"]["columns"];

type Nullable<Schema extends z.ZodType, NotNull> = NotNull extends true ? Schema : z.ZodNullable<Schema>;

type BaseSchema<C> = C extends { _: { dataType: infer D; enumValues: infer E } }
  ? D extends "date"
    ? z.ZodISODateTime
    : D extends "json"
      ? z.ZodUnknown
      : D extends "number"
        ? z.ZodNumber
        : D extends "boolean"
          ? z.ZodBoolean
          : E extends [string, ...string[]]
            ? z.ZodEnum<{ [V in E[number]]: V }>
            : z.ZodString
  : never;

type ColumnSchema<C> = C extends { _: { dataType: "json" } }
  ? z.ZodUnknown
  : C extends { _: { notNull: infer N } }
    ? Nullable<BaseSchema<C>, N>
    : never;

/** One zod schema per column of `T`, keyed by the column's SQL name. */
export type RowShape<T extends Table> = {
  [K in keyof Columns<T> as Columns<T>[K]["_"]["name"]]: ColumnSchema<Columns<T>[K]>;
};

/** The table's row as a response schema: pick the columns a view shows, extend with the rest. */
export function rowSchema<T extends Table>(table: T): z.ZodObject<RowShape<T>> {
  const fromColumns = createSelectSchema(table).shape as Record<string, z.ZodType>;
  const shape: Record<string, z.ZodType> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const instant = column.notNull ? z.iso.datetime() : z.iso.datetime().nullable();
    shape[column.name] =
      column.dataType === "date"
        ? instant
        : column.dataType === "json"
          ? z.unknown()
          : (fromColumns[key] as z.ZodType);
  }
  return z.object(shape) as unknown as z.ZodObject<RowShape<T>>;
}
