import { describe, expect, it } from "vitest";
import { issueToken, parseToken } from "../../src/api-keys/token.ts";
import { constantTimeEqual, secretsEqual, sha256 } from "../../src/lib/crypto.ts";
import { idPattern, newId } from "../../src/lib/ids.ts";

describe("ids", () => {
  it("are prefixed, well-formed and unique", () => {
    const ids = Array.from({ length: 1000 }, () => newId("tsk"));
    for (const id of ids) expect(id).toMatch(idPattern("tsk"));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("sort by creation time", () => {
    const earlier = newId("acc", Date.parse("2026-01-01T00:00:00Z"));
    const later = newId("acc", Date.parse("2026-01-01T00:00:00.001Z"));
    expect(earlier < later).toBe(true);
  });
});

describe("API key tokens", () => {
  it("round-trip: the token names its key and the hash is of the secret only", async () => {
    const id = newId("key");
    const { token, secretHash } = await issueToken(id);
    const parsed = parseToken(token);
    expect(parsed?.keyId).toBe(id);
    expect(constantTimeEqual(await sha256(parsed?.secret ?? ""), secretHash)).toBe(true);
  });

  it.each([
    "",
    "lh_",
    "lh_key_short_abcd",
    `lh_acc_01m8000000000000000000000_${"a".repeat(64)}`,
    `lh_key_01m8000000000000000000000_${"A".repeat(64)}`,
    `lh_key_01m8000000000000000000000_${"a".repeat(63)}`,
    `xx_key_01m8000000000000000000000_${"a".repeat(64)}`,
  ])("refuses the malformed token %j", (token) => {
    expect(parseToken(token)).toBeUndefined();
  });

  it("compares digests by content", async () => {
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false);
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3]))).toBe(false);
    expect(await secretsEqual("same-secret", "same-secret")).toBe(true);
    expect(await secretsEqual("same-secret", "same-secreT")).toBe(false);
  });
});
