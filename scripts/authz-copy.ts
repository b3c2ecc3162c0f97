// `npm run authz:copy -- --from postgres --to spicedb [--resume P | --prune | --since M | --verify]`
// Copies the authorization graph between the backends' stores, for switching AUTHZ_BACKEND on a
// live deployment (docs/authorization.md, "Switching backends"). Reads DATABASE_URL_DIRECT (or
// DATABASE_URL; DATABASE_WS_PROXY for a local bridge), SPICEDB_URL and SPICEDB_TOKEN.
//   (default)   copy every edge, idempotently; prints a position to --resume from
//   --prune     make the target exactly the source (only before the deploy); prints a mark
//   --since M   after the deploy: replay the source's changes since mark M
//   --verify    report edges present in one store and not the other; exit 1 if any
import { parseArgs } from "node:util";
import type { Relationship } from "../src/authz/model.ts";
import { SpiceDbClient } from "../src/authz/spicedb/client.ts";
import { edgeKey } from "../src/authz/spicedb/relationships.ts";
import {
  catchUp,
  copyGraph,
  decodeMark,
  decodePosition,
  diffGraph,
  encodeMark,
  encodePosition,
  syncGraph,
  takeMark,
} from "../src/authz-copy/copy.ts";
import { type GraphStore, postgresStore, spicedbStore } from "../src/authz-copy/stores.ts";
import { openDatabase } from "../src/db/client.ts";
import { describeError } from "../src/observability/logger.ts";
import { isLoopback } from "./local/database-url.ts";
import { startDbProxy } from "./local/db-proxy.ts";

const usage =
  "usage: npm run authz:copy -- --from postgres|spicedb --to spicedb|postgres [--resume P | --prune | --since M | --verify] [--verbose]";

export class UsageError extends Error {}

type Out = (line: string) => void;

/** Runs one invocation against the given environment; returns the exit code. */
export async function runAuthzCopy(argv: string[], env: NodeJS.ProcessEnv, out: Out = console.log) {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: "string" },
      to: { type: "string" },
      resume: { type: "string" },
      prune: { type: "boolean", default: false },
      since: { type: "string" },
      verify: { type: "boolean", default: false },
      verbose: { type: "boolean", default: false },
    },
  });
  const kinds = ["postgres", "spicedb"];
  if (!values.from || !values.to || !kinds.includes(values.from) || !kinds.includes(values.to)) {
    throw new UsageError(usage);
  }
  if (values.from === values.to) throw new UsageError("--from and --to must be different backends");
  const modes = [values.resume, values.prune || undefined, values.since, values.verify || undefined];
  if (modes.filter((mode) => mode !== undefined).length > 1) {
    throw new UsageError("choose at most one of --resume, --prune, --since, --verify");
  }
  const databaseUrl = env.DATABASE_URL_DIRECT ?? env.DATABASE_URL;
  if (!databaseUrl || !env.SPICEDB_URL || !env.SPICEDB_TOKEN) {
    throw new UsageError("set DATABASE_URL_DIRECT (or DATABASE_URL), SPICEDB_URL and SPICEDB_TOKEN");
  }
  const target = new URL(databaseUrl);
  const proxy =
    !env.DATABASE_WS_PROXY && isLoopback(databaseUrl)
      ? await startDbProxy({ targetHost: target.hostname, targetPort: Number(target.port || 5432) })
      : undefined;
  const handle = openDatabase(
    {
      databaseUrl,
      databaseWsProxy: env.DATABASE_WS_PROXY ?? (proxy ? `127.0.0.1:${proxy.port}` : undefined),
    },
    () => {},
  );
  try {
    const postgres = postgresStore(handle.db);
    const client = new SpiceDbClient({
      url: env.SPICEDB_URL,
      token: env.SPICEDB_TOKEN,
      metrics: { count() {} },
    });
    const spicedb = spicedbStore(client, handle.db);
    const stores: Record<string, GraphStore> = { postgres, spicedb };
    const from = stores[values.from] as GraphStore;
    const to = stores[values.to] as GraphStore;
    const name = `${values.from} -> ${values.to}`;
    const show = (label: string, edges: Relationship[]) => {
      for (const edge of values.verbose ? edges : edges.slice(0, 20)) out(`  ${label} ${edgeKey(edge)}`);
      if (!values.verbose && edges.length > 20)
        out(`  … and ${edges.length - 20} more (--verbose lists all)`);
    };

    if (values.verify) {
      let differences = 0;
      for (const diff of await diffGraph(from, to)) {
        differences += diff.onlyInSource.length + diff.onlyInTarget.length;
        out(
          `verify ${diff.type}: ${diff.onlyInSource.length} only in ${values.from}, ${diff.onlyInTarget.length} only in ${values.to}`,
        );
        show(`only in ${values.from}:`, diff.onlyInSource);
        show(`only in ${values.to}:`, diff.onlyInTarget);
      }
      out(differences === 0 ? `verify: ${name} agree` : `verify: ${differences} edges differ`);
      return differences === 0 ? 0 : 1;
    }
    if (values.prune) {
      const counts = await syncGraph(from, to);
      const mark = encodeMark(await takeMark({ spicedb, postgres }));
      out(
        `prune ${name}: ${counts.added} added, ${counts.removed} removed; ${values.to} now equals ${values.from}`,
      );
      out(`mark: ${mark}`);
      return 0;
    }
    if (values.since) {
      const report = await catchUp(from, to, decodeMark(values.since));
      out(
        `since mark ${name}: ${report.added.length} added, ${report.removed.length} removed, ${report.keptDeleted.length} left deleted`,
      );
      show("added:", report.added);
      show("removed:", report.removed);
      show("left deleted (the new backend removed them after the mark):", report.keptDeleted);
      return 0;
    }
    const resume = values.resume ? decodePosition(values.resume) : undefined;
    const { copied } = await copyGraph(from, to, {
      resume,
      onPage: (next, total) => {
        if (next) out(`copy ${name}: ${total} edges so far; resume with --resume ${encodePosition(next)}`);
      },
    });
    out(`copy ${name}: ${copied} edges copied`);
    return 0;
  } finally {
    await handle.close();
    await proxy?.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.exitCode = await runAuthzCopy(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`authz:copy: ${error.message}`);
      process.exitCode = 2;
    } else {
      // By class and code, like a log line: never a statement's parameters.
      console.error(`authz:copy: failed ${JSON.stringify(describeError(error))}`);
      process.exitCode = 1;
    }
  }
}
