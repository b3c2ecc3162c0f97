import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { stepStatuses, taskStates, verbTable } from "../../src/lifecycle/task-lifecycle.ts";

const srcRoot = path.resolve("src");
const lifecycleRoot = path.join(srcRoot, "lifecycle");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith(".ts") || name.endsWith(".tsx") ? [full] : [];
  });
}

// Words that are also another vocabulary's values: the authorization outbox's per-entry outcomes
// (counted as `completed` / `failed` / `deferred` by its cron job), unrelated to task states.
const otherVocabularies: Record<string, string[]> = {
  "src/authz/spicedb/outbox-work.ts": ["completed", "failed"],
};

const names = [...new Set([...taskStates, ...stepStatuses])];
const quoted = new RegExp(`(['"])(${names.join("|")})\\1`, "g");

describe("the lifecycle is written once", () => {
  it("no state or step status name is typed outside src/lifecycle", () => {
    const found: string[] = [];
    for (const file of sourceFiles(srcRoot)) {
      if (file.startsWith(lifecycleRoot + path.sep)) continue;
      const relative = path.relative(process.cwd(), file).split(path.sep).join("/");
      const allowed = otherVocabularies[relative] ?? [];
      readFileSync(file, "utf8")
        .split("\n")
        .forEach((line, index) => {
          for (const match of line.matchAll(quoted)) {
            if (!allowed.includes(match[2] as string)) found.push(`${relative}:${index + 1}: ${match[0]}`);
          }
        });
    }
    expect(found).toEqual([]);
  });

  it("the search would find a name if one were typed (the pattern is not vacuous)", () => {
    expect("state = 'submitted'".match(quoted)).toEqual(["'submitted'"]);
    expect('outcome === "done"'.match(quoted)).toEqual(['"done"']);
  });

  it("every verb's rules name only declared states, and every state is reachable or initial", () => {
    const reached = new Set<string>(["submitted"]);
    for (const verb of Object.values(verbTable)) {
      for (const rule of verb.rules as readonly { from: readonly string[]; to: string }[]) {
        for (const state of [...rule.from, rule.to]) expect(taskStates).toContain(state);
        reached.add(rule.to);
      }
    }
    expect([...reached].sort()).toEqual([...taskStates].sort());
  });
});
