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
