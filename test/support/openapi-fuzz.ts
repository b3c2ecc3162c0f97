// Arbitraries derived from the served OpenAPI document (which is generated from the zod schemas):
// a valid request for an operation, with exactly one bad value injected at one position — a body
// field at any depth, a path or query parameter, or the idempotency header.
import fc from "fast-check";
import { newId } from "../../src/lib/ids.ts";
import { type Bad, badBodyValues, badHeaderValues, badPathValues, badQueryValues } from "./bad-values.ts";

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  example?: unknown;
  anyOf?: JsonSchema[];
}

interface Parameter {
  in: "path" | "query" | "header";
  name: string;
  schema: JsonSchema;
}

export interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  body: JsonSchema | undefined;
  admin: boolean;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { schemas: Record<string, JsonSchema> };
}

/** Ids of real resources the authenticated principal owns, by id prefix; names of real tasks. */
export interface Fixtures {
  ids: Record<"acc" | "agt" | "tsk" | "sch" | "key", string[]>;
  taskNames: string[];
}

export type Position =
  | { in: "path" | "query" | "header"; name: string; schema: JsonSchema }
  | { in: "body"; pointer: string[]; schema: JsonSchema };

/** A request to send; `rawTokens` replace their placeholders in the serialized body (e.g. `1e400`). */
export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  rawTokens: Map<string, string>;
  admin: boolean;
  position: Position;
  bad: Bad;
}

export function operationsOf(doc: OpenApiDocument): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, op]) => {
      const content = (op.requestBody as { content?: Record<string, { schema: JsonSchema }> } | undefined)
        ?.content;
      return {
        method: method.toUpperCase(),
        path,
        parameters: (op.parameters as Parameter[] | undefined) ?? [],
        body: content?.["application/json"]?.schema,
        admin: JSON.stringify(op.security ?? []).includes("adminToken"),
      };
    }),
  );
}

export function createFuzzer(doc: OpenApiDocument, fixtures: Fixtures) {
  const resolve = (schema: JsonSchema): JsonSchema => {
    if (schema.$ref) return resolve(doc.components.schemas[schema.$ref.split("/").at(-1) as string] ?? {});
    if (schema.anyOf) return resolve(schema.anyOf[0] ?? {});
    return schema;
  };
  const typeOf = (schema: JsonSchema) => (Array.isArray(schema.type) ? schema.type[0] : schema.type);
  const idPrefixOf = (pattern: string | undefined) => /^\^([a-z]{3})_/.exec(pattern ?? "")?.[1];
  const text = fc.string({ minLength: 1, maxLength: 12, unit: "grapheme-ascii" });
  const json: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 2, stringUnit: "grapheme-ascii" });

  /** Ids a body field of this name holds, when it names a resource. */
  function bodyIdPrefix(pointer: string[]): keyof Fixtures["ids"] | undefined {
    const last = pointer.at(-1);
    if (last === "agent_id") return "agt";
    if (last === "account_id") return "acc";
    if (last === "id" && pointer.at(-3) === "items") return "tsk";
    return undefined;
  }

  function valid(raw: JsonSchema, pointer: string[] = []): fc.Arbitrary<unknown> {
    const schema = resolve(raw);
    const prefix = bodyIdPrefix(pointer);
    if (prefix) return fc.constantFrom(...fixtures.ids[prefix]);
    if (schema.enum) return fc.constantFrom(...schema.enum);
    switch (typeOf(schema)) {
      case "string": {
        const max = Math.min(schema.maxLength ?? 20, 20);
        const base = schema.pattern
          ? fc.stringMatching(new RegExp(schema.pattern), { maxLength: max })
          : text.filter((value) => value.length >= (schema.minLength ?? 0) && value.length <= max);
        return schema.example === undefined ? base : fc.oneof(fc.constant(schema.example), base);
      }
      case "integer":
        return fc.integer({ min: schema.minimum ?? 1, max: Math.min(schema.maximum ?? 60, 1000) });
      case "number":
        return fc.double({ min: 0, max: 100, noNaN: true });
      case "boolean":
        return fc.boolean();
      case "array":
        return fc.array(valid(schema.items ?? {}, [...pointer, "0"]), {
          minLength: schema.minItems ?? 0,
          maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 2, 2)),
        });
      case "object": {
        if (!schema.properties) {
          const values = typeof schema.additionalProperties === "object" ? schema.additionalProperties : {};
          return fc.dictionary(text, valid(values), { maxKeys: 3 });
        }
        const model = Object.fromEntries(
          Object.entries(schema.properties).map(([key, inner]) => [key, valid(inner, [...pointer, key])]),
        );
        return fc.record(model, { requiredKeys: schema.required ?? [] });
      }
      default:
        return json;
    }
  }

  function bodyPositions(raw: JsonSchema, pointer: string[]): Position[] {
    const schema = resolve(raw);
    const here: Position = { in: "body", pointer, schema };
    if (typeOf(schema) === "array") return [here, ...bodyPositions(schema.items ?? {}, [...pointer, "0"])];
    if (typeOf(schema) === "object" && schema.properties) {
      return [
        here,
        ...Object.entries(schema.properties).flatMap(([key, inner]) =>
          bodyPositions(inner, [...pointer, key]),
        ),
      ];
    }
    return [here];
  }

  function positionsOf(op: Operation): Position[] {
    const unknownQuery: Position = { in: "query", name: "zz_unknown", schema: {} };
    return [
      ...op.parameters.map((p) => ({ in: p.in, name: p.name, schema: resolve(p.schema) })),
      unknownQuery,
      ...(op.body ? bodyPositions(op.body, []) : []),
    ];
  }

  function validParameter(p: Parameter): fc.Arbitrary<string> {
    const prefix = idPrefixOf(p.schema.pattern) as keyof Fixtures["ids"] | undefined;
    if (prefix) {
      const missing = newId(prefix);
      return fc.constantFrom(...fixtures.ids[prefix], missing);
    }
    if (p.in === "path" && p.name === "name") return fc.constantFrom(...fixtures.taskNames);
    return valid(p.schema).map((value) => encodeURIComponent(String(value)));
  }

  function badFor(position: Position): Bad[] {
    if (position.in === "body")
      return badBodyValues(
        position.pointer,
        resolve(position.schema),
        fixtures,
        bodyIdPrefix(position.pointer),
      );
    if (position.in === "path") return badPathValues(position.name, position.schema, fixtures);
    if (position.in === "query") return badQueryValues(position.name, position.schema);
    return badHeaderValues(position.schema);
  }

  /** The positions of `op` where a bad value can go. */
  function targetsOf(op: Operation): Position[] {
    return positionsOf(op).filter((position) => badFor(position).length > 0);
  }

  /** A request for `op` that is valid except for one bad value at `position` (or any position). */
  function request(op: Operation, at?: Position): fc.Arbitrary<FuzzRequest> {
    const positions = at ? [at] : targetsOf(op);
    const params = fc.record(
      Object.fromEntries(op.parameters.map((p) => [`${p.in}:${p.name}`, validParameter(p)])),
    );
    const body = op.body ? valid(op.body) : fc.constant(undefined);
    return fc
      .record({ position: fc.constantFrom(...positions), params, body, include: fc.boolean() })
      .chain(({ position, params: values, body: validBody, include }) =>
        fc.constantFrom(...badFor(position)).map((bad) => {
          const chosen = { ...values } as Record<string, string>;
          // Optional query parameters and headers are left out half the time.
          for (const p of op.parameters) if (p.in !== "path" && !include) delete chosen[`${p.in}:${p.name}`];
          const rawTokens = new Map<string, string>();
          let sentBody = validBody;
          if (position.in === "body") sentBody = inject(validBody, position.pointer, bad.value(rawTokens));
          else chosen[`${position.in}:${position.name}`] = bad.value(rawTokens) as string;
          return assemble(op, chosen, sentBody, rawTokens, position, bad);
        }),
      );
  }

  return { targetsOf, request };
}

function inject(body: unknown, pointer: string[], value: unknown): unknown {
  if (pointer.length === 0) return value;
  const [head, ...rest] = pointer as [string, ...string[]];
  if (Array.isArray(body)) {
    const copy = body.length > 0 ? [...body] : [{}];
    copy[Number(head)] = inject(copy[Number(head)], rest, value);
    return copy;
  }
  const object = body !== null && typeof body === "object" ? (body as Record<string, unknown>) : {};
  return { ...object, [head]: inject(object[head], rest, value) };
}

function assemble(
  op: Operation,
  values: Record<string, string>,
  body: unknown,
  rawTokens: Map<string, string>,
  position: Position,
  bad: Bad,
): FuzzRequest {
  const path = op.path.replace(/\{(\w+)\}/g, (_match, name: string) => values[`path:${name}`] ?? "x");
  const query = Object.entries(values)
    .filter(([key]) => key.startsWith("query:"))
    .map(([key, value]) => `${key.slice("query:".length)}=${value}`)
    .join("&");
  const headers = Object.fromEntries(
    Object.entries(values)
      .filter(([key]) => key.startsWith("header:"))
      .map(([key, value]) => [key.slice("header:".length), value]),
  );
  return {
    method: op.method,
    url: query ? `${path}?${query}` : path,
    headers,
    body: op.body || position.in === "body" ? body : undefined,
    rawTokens,
    admin: op.admin,
    position,
    bad,
  };
}

/** The JSON text of a fuzz body, with raw tokens (numbers JSON.stringify cannot write) in place. */
export function serializeBody(request: FuzzRequest): string | undefined {
  if (request.body === undefined) return undefined;
  let text = JSON.stringify(request.body);
  for (const [placeholder, raw] of request.rawTokens)
    text = text.replaceAll(JSON.stringify(placeholder), raw);
  return text;
}
