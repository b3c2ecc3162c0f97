import { Client } from "@neondatabase/serverless";
import { routeThroughLocalProxy } from "../../src/db/client.ts";

export function isLoopback(databaseUrl: string): boolean {
  const host = new URL(databaseUrl).hostname;
  return host === "localhost" || host === "::1" || host === "[::1]" || host.startsWith("127.");
}

export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** A single Neon-driver session, the same driver the Worker uses. */
export async function connectSession(databaseUrl: string, proxyAddress: string | undefined): Promise<Client> {
  if (proxyAddress) routeThroughLocalProxy(proxyAddress);
  const client = new Client({ connectionString: databaseUrl });
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** Why `npm run db:migrate` will not use the URL it was given; the message is one line. */
export class MigrationTargetError extends Error {
  override name = "MigrationTargetError";
}

/** A Neon pooled endpoint: PgBouncer in transaction mode, `-pooler` in the host's first label. */
export function isNeonPooledHost(databaseUrl: string): boolean {
  return new URL(databaseUrl).hostname.split(".")[0]?.includes("-pooler") ?? false;
}

/**
 * The URL migrations run over (DESIGN §9, ADR 0015): DATABASE_URL_DIRECT, or DATABASE_URL when it
 * is a local server (there is no pooler to avoid). Never a pooled endpoint: the runner holds a
 * session advisory lock and sets session settings, which transaction pooling does not keep.
 */
export function migrationDatabaseUrl(env: Record<string, string | undefined>): { url: string; from: string } {
  const direct = env.DATABASE_URL_DIRECT?.trim();
  const worker = env.DATABASE_URL?.trim();
  let chosen: { url: string; from: string };
  if (direct) chosen = { url: direct, from: "DATABASE_URL_DIRECT" };
  else if (worker && isLoopback(parseUrl(worker, "DATABASE_URL")))
    chosen = { url: worker, from: "DATABASE_URL" };
  else if (worker) {
    throw new MigrationTargetError(
      "set DATABASE_URL_DIRECT to the direct (non-pooled) connection string; DATABASE_URL is used only when it points at this machine",
    );
  } else {
    throw new MigrationTargetError(
      "set DATABASE_URL_DIRECT to the database to migrate (its direct connection string)",
    );
  }
  parseUrl(chosen.url, chosen.from);
  if (isNeonPooledHost(chosen.url)) {
    throw new MigrationTargetError(
      `${chosen.from} points at Neon's pooled endpoint (${new URL(chosen.url).hostname}); use the direct connection string (the host without -pooler)`,
    );
  }
  return chosen;
}

function parseUrl(value: string, name: string): string {
  try {
    new URL(value);
    return value;
  } catch {
    throw new MigrationTargetError(`${name} is not a valid postgres:// URL`);
  }
}
