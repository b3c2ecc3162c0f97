// Every verb goes through the one access guard (src/authz/guard.ts): a static check, in the
// spirit of a lint rule, that an exported service verb touching the database declares its need.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const srcRoot = path.resolve("src");
const guardFile = "src/authz/guard.ts";
// Transport, wiring and operator code: no principal's verbs live here.
const outsideDomain = ["src/routes/", "src/http/", "src/cron/", "src/db/", "src/lifecycle/", "src/config/"];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith(".ts") ? [full] : [];
  });
}

const files = sourceFiles(srcRoot).map((file) => ({
  name: path.relative(process.cwd(), file).split(path.sep).join("/"),
  text: readFileSync(file, "utf8"),
}));

interface Verb {
  file: string;
  name: string;
  exported: boolean;
  /** Handed a Grant: it runs inside a guard by construction. */
  grantGiven: boolean;
  body: string;
}

/** The text from `open` (an opening bracket) to its matching close, skipping strings and comments. */
function balanced(text: string, open: number): string {
  const pairs: Record<string, string> = { "{": "}", "(": ")" };
  const stack: string[] = [];
  for (let i = open; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '"' || ch === "'") {
      i = text.indexOf(ch, i + 1);
      continue;
    }
    if (ch === "/" && text[i + 1] === "/") {
      i = text.indexOf("\n", i);
      continue;
    }
    if (pairs[ch]) stack.push(pairs[ch] as string);
    else if (ch === stack.at(-1)) {
      stack.pop();
      if (stack.length === 0) return text.slice(open, i + 1);
    }
  }
  throw new Error("unbalanced source");
}

/** Functions with a parameter typed `ServiceContext`, and their bodies. */
function contextFunctions(file: { name: string; text: string }): Verb[] {
  const verbs: Verb[] = [];
  for (const match of file.text.matchAll(/^(export )?(?:async )?function (\w+)\s*(?:<[^(]*>)?\(/gm)) {
    const paramsAt = (match.index ?? 0) + match[0].length - 1;
    const params = balanced(file.text, paramsAt);
    if (!/:\s*ServiceContext\b/.test(params)) continue;
    // The body is the first `{` after the parameters that is not inside the return type's `<…>`.
    let at = paramsAt + params.length;
    let angle = 0;
    for (; at < file.text.length; at++) {
      const ch = file.text[at];
      if (ch === "<") angle++;
      else if (ch === ">" && file.text[at - 1] !== "=") angle--;
      else if (ch === "{" && angle === 0) break;
    }
    verbs.push({
      file: file.name,
      name: match[2] as string,
      exported: match[1] !== undefined,
      grantGiven: /:\s*Grant\b/.test(params),
      body: balanced(file.text, at),
    });
  }
  for (const match of file.text.matchAll(
    /^export const (\w+) = (?:async )?\(([^)]*ServiceContext[^)]*)\)/gm,
  )) {
    const rest = file.text.slice((match.index ?? 0) + match[0].length);
    verbs.push({
      file: file.name,
      name: match[1] as string,
      exported: true,
      grantGiven: /:\s*Grant\b/.test(match[2] as string),
      body: rest.slice(0, rest.indexOf(";\n")),
    });
  }
  return verbs;
}

const domainFiles = files.filter((file) => !outsideDomain.some((prefix) => file.name.startsWith(prefix)));
const functions = domainFiles.flatMap(contextFunctions);
const verbs = functions.filter((fn) => fn.exported && !fn.grantGiven);
const touchesDatabase = (body: string) => /\bctx\.db\b|\bcreateRegistered\(/.test(body);
const callsGuard = (body: string) => /\bguard(List)?\(/.test(body);
// A file's own helper that wraps guard() (e.g. every step write is an update by the leaseholder).
const guardingHelpers = new Set(
  functions.filter((fn) => !fn.exported && callsGuard(fn.body)).map((fn) => `${fn.file}#${fn.name}`),
);
const guarded = (verb: Verb) =>
  callsGuard(verb.body) ||
  [...verb.body.matchAll(/\b(\w+)\(/g)].some((call) => guardingHelpers.has(`${verb.file}#${call[1]}`));

describe("the access guard", () => {
  it("finds the verbs it checks (the scan is not vacuous)", () => {
    const names = verbs.map((verb) => verb.name);
    for (const expected of [
      "completeTask",
      "claim",
      "heartbeat",
      "getTask",
      "listVisibleTasks",
      "createTask",
    ]) {
      expect(names).toContain(expected);
    }
  });

  it("every exported verb that touches the database goes through guard()", () => {
    const unguarded = verbs
      .filter((verb) => touchesDatabase(verb.body) && !guarded(verb))
      .map((verb) => `${verb.file}: ${verb.name}`);
    expect(unguarded).toEqual([]);
  });

  it("only the guard asks Access for a decision or turns a probe into 404/403", () => {
    const decisions = /\.access\.(filter|listScope|observe)\(|\bassertPermitted\(/;
    const offenders = files
      .filter((file) => file.name !== guardFile && file.name !== "src/authz/probe.ts")
      .flatMap((file) =>
        file.text
          .split("\n")
          .map((line, index) => ({ line, index }))
          .filter(({ line }) => decisions.test(line))
          .map(({ line, index }) => `${file.name}:${index + 1}: ${line.trim()}`),
      );
    expect(offenders).toEqual([]);
  });
});
