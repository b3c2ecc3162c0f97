// The local admin token lives in .dev.vars (wrangler reads it); the demo account and its key in
// .data/demo.json. Both survive restarts so scripts can keep using them.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createAccount } from "../../src/accounts/service.ts";
import { authenticateKey, issuePrincipalKey, presentedKey } from "../../src/api-keys/service.ts";
import { createPostgresAuthorizer } from "../../src/authz/authorizer.ts";
import type { Database } from "../../src/db/client.ts";
import { randomHex } from "../../src/lib/crypto.ts";

export function readDevVars(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  return Object.fromEntries(
    readFileSync(file, "utf8")
      .split("\n")
      .map((line) => /^([A-Z0-9_]+)\s*=\s*"?(.*?)"?\s*$/.exec(line))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => [match[1] as string, match[2] as string]),
  );
}

export function writeDevVars(file: string, vars: Record<string, string>): void {
  const lines = Object.entries(vars).map(([name, value]) => `${name}="${value}"`);
  writeFileSync(file, `# Written by npm run dev; local only.\n${lines.join("\n")}\n`, { mode: 0o600 });
}

export function chooseAdminToken(fromEnv: string | undefined, fromFile: string | undefined): string {
  return fromEnv ?? fromFile ?? `adm_${randomHex(24)}`;
}

export interface DemoCredentials {
  accountId: string;
  apiKey: string;
}

/** Reuses the saved demo key while it still authenticates; otherwise creates account and key. */
export async function ensureDemoCredentials(db: Database, file: string): Promise<DemoCredentials> {
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, "utf8")) as DemoCredentials;
    const presented = await presentedKey(saved.apiKey);
    if (presented && (await authenticateKey(db, presented))) return saved;
  }
  const ctx = { db, now: new Date(), authorizer: createPostgresAuthorizer() };
  const account = await createAccount(ctx, { name: "demo" });
  const { token } = await issuePrincipalKey(ctx, {
    accountId: account.id,
    principal: { type: "user", id: "demo-admin" },
    role: "admin",
  });
  const credentials = { accountId: account.id, apiKey: token };
  writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  return credentials;
}
