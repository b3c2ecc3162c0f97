// The catalogue of bad values the route fuzzer injects, per kind of position, each with the answer
// it must get when that answer is fixed by the input rules (ADR 0014).
import { maxJsonDepth } from "../../src/http/input-guard.ts";
import { newId } from "../../src/lib/ids.ts";
import type { Fixtures, JsonSchema } from "./openapi-fuzz.ts";

export interface Expected {
  status: number;
  code: string;
  location?: "body" | "query" | "path" | "header";
  pointer?: string;
}

export interface Bad {
  label: string;
  /** The value to send; `raw` registers JSON text JSON.stringify cannot write (e.g. `1e400`). */
  value: (raw: Map<string, string>) => unknown;
  expect?: Expected;
}

const raw = (text: string) => (tokens: Map<string, string>) => {
  const placeholder = `__raw_${tokens.size}__`;
  tokens.set(placeholder, text);
  return placeholder;
};

export const unstorableStrings: [string, string][] = [
  ["NUL", "\u0000"],
  ["NUL inside", "a\u0000b"],
  ["lone high surrogate", "\ud800"],
  ["lone low surrogate", "\udfff"],
  ["truncated pair", "x\ud83d"],
  ["reversed pair", "\ude00\ud83d"],
];

/** Percent-encodings that do not decode to storable text: NUL, broken escapes, bytes that are not UTF-8. */
export const unstorableEncodings = ["%00", "a%00b", "%zz", "%zz%", "%ED%A0%80", "%C0%80", "%FF"];

const escape = (segment: string) => segment.replaceAll("~", "~0").replaceAll("/", "~1");
export const pointerOf = (pointer: string[]) => pointer.map((segment) => `/${escape(segment)}`).join("");

const typeOf = (schema: JsonSchema) => (Array.isArray(schema.type) ? schema.type[0] : schema.type);

function violates(schema: JsonSchema, value: unknown): boolean {
  if (schema.enum) return !schema.enum.includes(value);
  const type = typeOf(schema);
  if (type === undefined) return false;
  if (type === "integer" || type === "number") {
    if (typeof value !== "number" || (type === "integer" && !Number.isInteger(value))) return true;
    return value < (schema.minimum ?? -Infinity) || value > (schema.maximum ?? Number.MAX_SAFE_INTEGER);
  }
  if (type === "string") {
    if (typeof value !== "string") return true;
    if (value.length > (schema.maxLength ?? Infinity) || value.length < (schema.minLength ?? 0)) return true;
    return schema.pattern !== undefined && !new RegExp(schema.pattern).test(value);
  }
  if (type === "boolean") return typeof value !== "boolean";
  if (type === "array") return !Array.isArray(value);
  if (type === "object") return value === null || typeof value !== "object" || Array.isArray(value);
  return false;
}

const idLike = (fixtures: Fixtures, prefix: keyof Fixtures["ids"]) => {
  const other = (prefix === "tsk" ? fixtures.ids.agt[0] : fixtures.ids.tsk[0]) as string;
  const real = fixtures.ids[prefix][0] as string;
  return [
    "'",
    "..%2F..%2Fhealth",
    "%zz%",
    "tsk_x' OR '1'='1",
    `"${real}`,
    real.toUpperCase(),
    other,
    newId(prefix),
  ];
};

export function badBodyValues(
  pointer: string[],
  schema: JsonSchema,
  fixtures: Fixtures,
  idPrefix: keyof Fixtures["ids"] | undefined,
): Bad[] {
  const at = pointerOf(pointer);
  const refused = (location: "body", where = at): Expected => ({
    status: 422,
    code: "validation_failed",
    location,
    pointer: where,
  });
  const type = typeOf(schema);
  const bad: Bad[] = [];
  const constant = (label: string, value: unknown, expect?: Expected) =>
    bad.push({ label, value: () => structuredClone(value), ...(expect ? { expect } : {}) });
  // Text PostgreSQL cannot store is refused wherever a string can be, member names included.
  if (type === "string" || type === undefined) {
    for (const [label, text] of unstorableStrings) constant(label, text, refused("body"));
  }
  if (type === undefined || (type === "object" && !schema.properties)) {
    constant("NUL deep inside", { k: [1, { v: "\u0000" }] }, refused("body", `${at}/k/1/v`));
    constant("NUL in a member name", { "a\u0000": 1 }, refused("body", `${at}/a\u0000`));
    constant("surrogate in a member name", { "\ud800": true }, refused("body", `${at}/\ud800`));
    bad.push({ label: "1e400 inside", value: (t) => [raw("1e400")(t)], expect: refused("body", `${at}/0`) });
    let deep: unknown = 1;
    for (let i = 0; i < maxJsonDepth + 40; i++) deep = [deep];
    const tooDeep = `${at}${"/0".repeat(Math.max(0, maxJsonDepth - pointer.length))}`;
    constant("nested too deep", deep, refused("body", tooDeep));
  }
  if (type === undefined) return bad;
  if (type === "integer" || type === "number") {
    // Out of the column's range, or of the bound the document states; a value inside them is no
    // bad input (an epoch of 2^31 is a stale token, answered 409 with an audit event).
    for (const [label, value] of [
      ["2^31", 2 ** 31],
      ["2^63", 2 ** 63],
      ["-1", -1],
      ["1.5", 1.5],
    ] as const) {
      if (violates(schema, value)) constant(label, value, refused("body"));
    }
    bad.push({ label: "1e400", value: raw("1e400"), expect: refused("body") });
    bad.push({ label: "-1e400", value: raw("-1e400"), expect: refused("body") });
  }
  if (type === "string" && idPrefix) {
    for (const value of idLike(fixtures, idPrefix)) constant(`id ${value}`, value);
  } else if (type === "string") {
    for (const value of ["'", "..%2F..%2Fhealth", "%zz%", "a b", "%00"]) {
      if (violates(schema, value)) constant(`text ${value}`, value, refused("body"));
    }
    if (pointer.at(-1) === "id" && ["principal", "subject"].includes(pointer.at(-2) ?? ""))
      constant("512+ UTF-8 bytes", "€".repeat(256), refused("body"));
  }
  if (type === "string" && schema.maxLength !== undefined)
    constant("overlong", "x".repeat(schema.maxLength + 1), refused("body"));
  const wrongTypes: [string, unknown][] = [
    ["a number", 1],
    ["a string", "1"],
    ["null", null],
    ["true", true],
    ["an array", []],
    ["an object", {}],
  ];
  for (const [label, value] of wrongTypes) {
    if (violates(schema, value) && !(type === "object" && label === "an object"))
      constant(`wrong type: ${label}`, value, refused("body"));
  }
  if (type === "object" && schema.properties && schema.additionalProperties === false)
    constant("an unknown member", { zz_unknown: 1 }, refused("body"));
  if (type === "object" && schema.properties)
    constant("NUL in a member name", { "\u0000": 1 }, refused("body", `${at}/\u0000`));
  return bad;
}

export function badPathValues(name: string, schema: JsonSchema, fixtures: Fixtures): Bad[] {
  const bad: Bad[] = [];
  const add = (label: string, value: string, expect?: Expected) =>
    bad.push({ label, value: () => value, ...(expect ? { expect } : {}) });
  const prefix = /^\^([a-z]{3})_/.exec(schema.pattern ?? "")?.[1] as keyof Fixtures["ids"] | undefined;
  const malformed = {
    status: 400,
    code: "malformed_request",
    location: "path" as const,
    pointer: `/${name}`,
  };
  for (const value of unstorableEncodings) add(`encoded ${value}`, value, malformed);
  if (prefix) {
    const notFound = { status: 404, code: "not_found" };
    for (const value of idLike(fixtures, prefix)) add(`id ${value}`, encodeURIComponent(value), notFound);
    add("an emoji", "%F0%9F%98%80", notFound);
    add("overlong", "x".repeat(300), notFound);
    add("real id with a suffix", `${fixtures.ids[prefix][0]}%20`, notFound);
  } else if (typeOf(schema) === "integer") {
    for (const value of ["2147483648", "9223372036854775808", "-1", "0", "1.5", "abc", "1e400"])
      add(`integer ${value}`, value, {
        status: 422,
        code: "validation_failed",
        location: "path",
        pointer: `/${name}`,
      });
  } else {
    add("quote", "'");
    add("dot segments", "..%2F..%2Fhealth");
    if (schema.maxLength !== undefined)
      add("overlong", "x".repeat(schema.maxLength + 1), { status: 422, code: "validation_failed" });
  }
  return bad;
}

export function badQueryValues(name: string, schema: JsonSchema): Bad[] {
  const bad: Bad[] = [];
  const add = (label: string, value: string, expect?: Expected) =>
    bad.push({ label, value: () => value, ...(expect ? { expect } : {}) });
  const malformed = {
    status: 400,
    code: "malformed_request",
    location: "query" as const,
    pointer: `/${name}`,
  };
  for (const value of [...unstorableEncodings, "x+%00"]) add(`encoded ${value}`, value, malformed);
  if (name === "zz_unknown") return bad;
  const refused = { status: 422, code: "validation_failed", location: "query" as const, pointer: `/${name}` };
  if (typeOf(schema) === "integer") {
    for (const value of ["2147483648", "9223372036854775808", "-1", "0", "1e400", "abc"])
      if (violates(schema, Number(value))) add(`integer ${value}`, value, refused);
  } else {
    add("quote", "%27");
    add("dot segments", "..%2F..%2Fhealth");
    if (schema.maxLength !== undefined) add("overlong", "x".repeat(schema.maxLength + 1), refused);
    if (schema.pattern?.startsWith("^\\d")) {
      for (const value of ["9007199254740992", "99999999999999999999", "-1"])
        add(`cursor ${value}`, value, refused);
    }
  }
  return bad;
}

export function badHeaderValues(schema: JsonSchema): Bad[] {
  const refused = { status: 422, code: "validation_failed", location: "header" as const };
  return ["", "a b", "\u00e9", "x".repeat((schema.maxLength ?? 255) + 1)].map((value) => ({
    label: `header ${JSON.stringify(value.slice(0, 8))}`,
    value: () => value,
    expect: refused,
  }));
}
