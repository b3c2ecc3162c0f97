// The import rules of docs/architecture.md, checked over every .ts file of src/. Each failure
// lists the importing file, its line, the specifier as written and what it resolves to.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const srcRoot = path.resolve("src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith(".ts") ? [full] : [];
  });
}

const relative = (file: string) => path.relative(srcRoot, file).split(path.sep).join("/");

interface Edge {
  /** The importing file, relative to src/. */
  from: string;
  line: number;
  specifier: string;
  /** What the specifier resolves to, relative to src/ (`../…` when outside it). */
  to: string;
  /** `import type`, `export type`, or braces holding only `type` specifiers. */
  typeOnly: boolean;
  /** The bound names (`{ a, b as c }` gives a, b); empty for `*`, a default or a side effect. */
  names: string[];
}

// A static import or re-export at the start of a line; its clause holds only names, braces,
// commas and `*`, so a string or template literal elsewhere in the file never matches.
const staticImport = /^[ \t]*(?:import|export)[ \t]+(type[ \t]+)?([\w$\s{},*]*?)\bfrom\s*(["'])([^"']+)\3/gm;
const sideEffectImport = /^[ \t]*import\s*(["'])([^"']+)\1/gm;
const dynamicImport = /\bimport\(\s*(["'])([^"']+)\1\s*\)/g;

function parse(file: string): Edge[] {
  const text = readFileSync(file, "utf8");
  const lineAt = (index: number) => text.slice(0, index).split("\n").length;
  const found: Omit<Edge, "from" | "to">[] = [];
  for (const m of text.matchAll(staticImport)) {
    const clause = m[2] ?? "";
    const braces = clause.match(/\{([^}]*)\}/)?.[1];
    const specifiers =
      braces === undefined
        ? []
        : braces
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean);
    const outsideBraces = clause.replace(/\{[^}]*\}/, "").replace(/[\s,]/g, "");
    found.push({
      line: lineAt(m.index),
      specifier: m[4] as string,
      typeOnly:
        m[1] !== undefined ||
        (outsideBraces === "" && specifiers.length > 0 && specifiers.every((s) => s.startsWith("type "))),
      names: specifiers.map((s) => s.replace(/^type\s+/, "").split(/\s+as\s+/)[0] as string),
    });
  }
  for (const pattern of [sideEffectImport, dynamicImport]) {
    for (const m of text.matchAll(pattern)) {
      found.push({ line: lineAt(m.index), specifier: m[2] as string, typeOnly: false, names: [] });
    }
  }
  return found
    .filter((edge) => edge.specifier.startsWith("."))
    .map((edge) => ({
      ...edge,
      from: relative(file),
      to: relative(path.resolve(path.dirname(file), edge.specifier)),
    }));
}

const edges = sourceFiles(srcRoot).flatMap(parse);
const inSrc = edges.filter((edge) => !edge.to.startsWith("../"));

/** The top-level folder of a path relative to src/, or the file itself at the top (`app.ts`). */
const folder = (file: string) => (file.includes("/") ? file.slice(0, file.indexOf("/")) : file);
const describeEdge = (edge: Edge) =>
  `src/${edge.from}:${edge.line} imports "${edge.specifier}" (src/${edge.to})`;
const offenders = (rule: (edge: Edge) => boolean) => inSrc.filter(rule).map(describeEdge);

/** Transport and the Worker's entry points; every other folder is domain or below it. */
const transport = new Set(["routes", "http", "app.ts", "index.ts"]);
const isRepo = (file: string) => /(^|\/|-)repo\.ts$/.test(file);

/**
 * Known exceptions, each one import named here and in docs/architecture.md. An entry that no
 * longer matches an import fails the last test, so the list only shrinks.
 */
interface Exception {
  rule: string;
  from: string;
  to: string;
  /** When set, the import may bind only these names. */
  names?: string[];
  typeOnly?: boolean;
  why: string;
}
const exceptions: Exception[] = [
  {
    rule: "domain never imports transport",
    from: "cron/tick.ts",
    to: "http/app-env.ts",
    typeOnly: true,
    why: "the tick takes the app's test overrides (AppOverrides), a type",
  },
  {
    rule: "routes import no repo file",
    from: "routes/leases.ts",
    to: "leases/repo.ts",
    names: ["maxClaimBatch"],
    why: "the claim batch limit, a constant shared with the zod schema",
  },
  {
    rule: "routes import no repo file",
    from: "routes/admin/authz.ts",
    to: "authz/outbox-repo.ts",
    names: ["outboxOperations"],
    why: "the outbox operation names, a tuple shared with the zod enum",
  },
];

const excepted = (rule: string) => (edge: Edge) =>
  exceptions.some(
    (x) =>
      x.rule === rule &&
      x.from === edge.from &&
      x.to === edge.to &&
      (x.typeOnly !== true || edge.typeOnly) &&
      (x.names === undefined || (edge.names.length > 0 && edge.names.every((n) => x.names?.includes(n)))),
  );

describe("import rules (docs/architecture.md)", () => {
  it("reads the imports it checks (the scan is not vacuous)", () => {
    expect(inSrc.length).toBeGreaterThan(300);
    // A multi-line import, a type-only one, and a named one.
    expect(inSrc).toContainEqual(
      expect.objectContaining({ from: "db/schema/tasks.ts", to: "lifecycle/task-lifecycle.ts" }),
    );
    expect(inSrc).toContainEqual(
      expect.objectContaining({ from: "lib/service-context.ts", to: "db/client.ts", typeOnly: true }),
    );
    expect(inSrc).toContainEqual(
      expect.objectContaining({
        from: "app.ts",
        to: "routes/index.ts",
        names: ["registerRoutes"],
        typeOnly: false,
      }),
    );
  });

  it("(a) src/db imports only src/db and src/lifecycle", () => {
    expect(offenders((e) => folder(e.from) === "db" && !["db", "lifecycle"].includes(folder(e.to)))).toEqual(
      [],
    );
  });

  it("(b) src/lifecycle imports nothing from src/ but src/lifecycle", () => {
    expect(offenders((e) => folder(e.from) === "lifecycle" && folder(e.to) !== "lifecycle")).toEqual([]);
  });

  it("(c) no domain folder (anything but routes, http, app.ts, index.ts) imports routes, http or the app", () => {
    const rule = "domain never imports transport";
    expect(
      offenders((e) => !transport.has(folder(e.from)) && transport.has(folder(e.to)) && !excepted(rule)(e)),
    ).toEqual([]);
  });

  it("only app.ts and src/routes import src/routes", () => {
    expect(
      offenders((e) => folder(e.to) === "routes" && !["routes", "app.ts"].includes(folder(e.from))),
    ).toEqual([]);
  });

  it("(d) src/routes takes from src/db only declarations: the tables and enum tuples of db/schema/", () => {
    expect(
      offenders(
        (e) => folder(e.from) === "routes" && folder(e.to) === "db" && !e.to.startsWith("db/schema/"),
      ),
    ).toEqual([]);
  });

  it("(d) src/routes imports no repo file (repo.ts, *-repo.ts)", () => {
    const rule = "routes import no repo file";
    expect(offenders((e) => folder(e.from) === "routes" && isRepo(e.to) && !excepted(rule)(e))).toEqual([]);
  });

  // The response schemas read the tables' column metadata; nothing in src/routes builds SQL.
  const columnMetadata = {
    file: "routes/row-schema.ts",
    line: 'import { getTableColumns, type Table } from "drizzle-orm";',
  };

  it("(d) src/routes builds no SQL: no drizzle-orm or Neon driver import, no sql`…`, no .execute(", () => {
    const found = sourceFiles(path.join(srcRoot, "routes")).flatMap((file) => {
      const text = readFileSync(file, "utf8");
      const imports = relative(file) === columnMetadata.file ? text.replace(columnMetadata.line, "") : text;
      return [
        ...[...imports.matchAll(/\bfrom\s*["'](drizzle-orm[^"']*|@neondatabase\/serverless)["']/g)].map(
          (m) => `src/${relative(file)} imports "${m[1]}"`,
        ),
        ...(/\bsql`|\.execute\(/.test(text)
          ? [`src/${relative(file)} runs SQL (sql\`…\` or .execute()`]
          : []),
      ];
    });
    expect(found).toEqual([]);
    expect(readFileSync(path.join(srcRoot, columnMetadata.file), "utf8")).toContain(columnMetadata.line);
  });

  it("every listed exception still matches an import exactly as listed (when not, delete or fix it here and in the doc)", () => {
    const stale = exceptions
      .filter((x) => !inSrc.some((e) => e.from === x.from && e.to === x.to && excepted(x.rule)(e)))
      .map((x) => `${x.rule}: src/${x.from} → src/${x.to} (${x.why})`);
    expect(stale).toEqual([]);
  });
});
