import type { SqlSession } from "../../src/db/migrations/runner.ts";

/** The public schema as sorted text lines: columns, constraints, indexes and enum types. */
export async function describeSchema(session: SqlSession): Promise<string> {
  const { rows } = await session.query(`
    SELECT line FROM (
      SELECT format('column %s %s %s %s %s default %s', table_name, lpad(ordinal_position::text, 2, '0'),
                    column_name, udt_name, CASE is_nullable WHEN 'YES' THEN 'null' ELSE 'not null' END,
                    coalesce(column_default, '-')) AS line
        FROM information_schema.columns WHERE table_schema = 'public'
      UNION ALL
      SELECT format('constraint %s %s %s%s', conrelid::regclass, conname, pg_get_constraintdef(oid),
                    CASE WHEN convalidated THEN '' ELSE ' (not validated)' END)
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace
      UNION ALL
      SELECT format('index %s%s', pg_get_indexdef(i.indexrelid), CASE WHEN i.indisvalid THEN '' ELSE ' (INVALID)' END)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       WHERE c.relnamespace = 'public'::regnamespace
      UNION ALL
      SELECT format('enum %s (%s)', t.typname, string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder))
        FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
       WHERE t.typnamespace = 'public'::regnamespace GROUP BY t.typname
    ) lines ORDER BY line`);
  return `${rows.map((row) => String(row.line)).join("\n")}\n`;
}
