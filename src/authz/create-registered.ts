import type { Transaction } from "../db/client.ts";
import { type CreateOutcome, runIdempotently } from "../idempotency/service.ts";
import type { ServiceContext } from "../lib/service-context.ts";
import type { Relationship } from "./model.ts";

/**
 * The one way resources are created: inside a transaction, once per Idempotency-Key, with the
 * graph registration joined to it (fail-closed). `insert` writes the rows and returns the
 * response body; the edges are registered right after it, before commit.
 */
export function createRegisteredIdempotently<T>(
  ctx: ServiceContext,
  request: { operation: string; idempotencyKey: string | undefined; body: unknown },
  edges: Relationship[],
  insert: (tx: Transaction) => Promise<T>,
): Promise<CreateOutcome<T>> {
  return ctx.authorizer.createRegistered(edges, (graphStep) =>
    ctx.db.transaction((tx) =>
      runIdempotently(
        tx,
        ctx.principal,
        request.operation,
        request.idempotencyKey,
        request.body,
        async () => {
          const body = await insert(tx);
          await graphStep(tx);
          return { status: 201, body };
        },
      ),
    ),
  );
}
