// Parses the subset of SpiceDB's schema language leasehold uses: definitions with relations
// (`relation r: a | b`) and permissions that are unions of relations, permissions and arrows
// (`permission p = r + q + r->p`). Anything else is rejected rather than half-understood.

export interface RelationDef {
  /** Allowed subject types, e.g. ["user", "service_account"] or ["agent"]. */
  subjectTypes: string[];
}

/** A permission is a union of terms: a relation or permission name, or an arrow. */
export type PermissionTerm =
  | { kind: "name"; name: string }
  | { kind: "arrow"; relation: string; permission: string };

export interface Definition {
  relations: Record<string, RelationDef>;
  permissions: Record<string, PermissionTerm[]>;
}

export type AuthzSchema = Record<string, Definition>;

const identifier = /^[a-z][a-z0-9_]*$/;

function expectIdentifier(value: string | undefined, what: string): string {
  if (!value || !identifier.test(value))
    throw new Error(`schema: expected ${what}, found ${JSON.stringify(value)}`);
  return value;
}

export function parseZedSchema(text: string): AuthzSchema {
  const schema: AuthzSchema = {};
  const source = text.replace(/\/\/.*$/gm, "");
  const definitionPattern = /definition\s+([a-z][a-z0-9_]*)\s*\{([^}]*)\}/g;
  let consumed = 0;
  for (const match of source.matchAll(definitionPattern)) {
    if (source.slice(consumed, match.index).trim() !== "")
      throw new Error("schema: unexpected text between definitions");
    consumed = (match.index ?? 0) + match[0].length;
    const name = expectIdentifier(match[1], "a definition name");
    const definition: Definition = { relations: {}, permissions: {} };
    for (const rawLine of (match[2] ?? "").split("\n")) {
      const line = rawLine.trim();
      if (line === "") continue;
      const relation = /^relation\s+(\S+)\s*:\s*(.+)$/.exec(line);
      const permission = /^permission\s+(\S+)\s*=\s*(.+)$/.exec(line);
      if (relation) {
        const types = (relation[2] ?? "")
          .split("|")
          .map((type) => expectIdentifier(type.trim(), "a subject type"));
        definition.relations[expectIdentifier(relation[1], "a relation name")] = { subjectTypes: types };
      } else if (permission) {
        definition.permissions[expectIdentifier(permission[1], "a permission name")] = (permission[2] ?? "")
          .split("+")
          .map((term) => parseTerm(term.trim()));
      } else {
        throw new Error(`schema: cannot read line ${JSON.stringify(line)} in definition ${name}`);
      }
    }
    schema[name] = definition;
  }
  if (source.slice(consumed).trim() !== "")
    throw new Error("schema: unexpected text after the last definition");
  validate(schema);
  return schema;
}

function parseTerm(term: string): PermissionTerm {
  const arrow = /^(\S+)->(\S+)$/.exec(term);
  if (arrow) {
    return {
      kind: "arrow",
      relation: expectIdentifier(arrow[1], "a relation"),
      permission: expectIdentifier(arrow[2], "a permission"),
    };
  }
  return { kind: "name", name: expectIdentifier(term, "a relation or permission (only + is supported)") };
}

function validate(schema: AuthzSchema): void {
  for (const [type, definition] of Object.entries(schema)) {
    for (const relation of Object.values(definition.relations)) {
      for (const subjectType of relation.subjectTypes) {
        if (!schema[subjectType]) throw new Error(`schema: ${type} refers to unknown type ${subjectType}`);
      }
    }
    for (const [permission, terms] of Object.entries(definition.permissions)) {
      for (const term of terms) {
        const name = term.kind === "name" ? term.name : term.relation;
        if (!definition.relations[name] && !(term.kind === "name" && definition.permissions[name])) {
          throw new Error(`schema: ${type}.${permission} refers to unknown ${name}`);
        }
      }
    }
  }
}
