import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { principalTypes } from "../db/schema/enums.ts";
import { NotFoundError } from "../errors/domain-error.ts";
import type { AppEnv } from "../http/app-env.ts";
import type { CreateOutcome } from "../idempotency/service.ts";
import { type IdPrefix, idPattern, isId } from "../lib/ids.ts";
import { decodeCursor, type Page } from "../lib/pagination.ts";

/** Largest value of a PostgreSQL `integer` column. */
export const maxInt4 = 2_147_483_647;

/** A principal id is customer text; its UTF-8 stays short enough for a SpiceDB object id once encoded. */
export const maxPrincipalIdBytes = 512;
const utf8Length = (text: string) => new TextEncoder().encode(text).length;

export const principalId = z
  .string()
  .min(1)
  .max(256)
  .refine((id) => utf8Length(id) <= maxPrincipalIdBytes, `At most ${maxPrincipalIdBytes} bytes of UTF-8.`);

/**
 * A request field holding any JSON value, null included, that must be present: required in the
 * OpenAPI document as it is at runtime (a bare `z.unknown()` is required by zod but documented
 * as optional).
 */
export const jsonValue = z.unknown().refine((value) => value !== undefined, "Required");

export const principalRef = z
  .object({ type: z.enum(principalTypes), id: principalId })
  .strict()
  .openapi("PrincipalRef");

/** Names are stored as sent: surrounding whitespace is refused, not trimmed away. */
export const resourceName = z
  .string()
  .min(1)
  .max(200)
  .refine((name) => name.trim() === name, "Must not start or end with whitespace.");

/**
 * A resource id in a path. One that is not in its resource's format names nothing: the router
 * answers it as the same 404 as a missing resource, before any lookup.
 */
export const resourceId = (prefix: IdPrefix) =>
  z
    .string()
    .regex(idPattern(prefix))
    .openapi({ example: `${prefix}_01kfgx2m9f8q4w7e6r5t0y1z2a` });

/** An id in a body: one not in its resource's format is answered like a missing resource (404). */
export function existingIdOr404(prefix: IdPrefix, id: string): string {
  if (!isId(prefix, id)) throw new NotFoundError();
  return id;
}

/**
 * A cursor over a bigint sequence (event ids, outbox ids): digits up to 2^53 - 1, the largest
 * value that reaches the statement exactly (the sequences are far from it).
 */
export const sequenceCursor = z
  .string()
  .regex(/^\d{1,16}$/, "A non-negative integer.")
  .refine((cursor) => Number(cursor) <= Number.MAX_SAFE_INTEGER, "At most 9007199254740991.");

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

export function toPageRequest(query: { limit: number; cursor?: string | undefined }): Page {
  return { limit: query.limit, before: decodeCursor(query.cursor) };
}

export const listOf = <T extends z.ZodType>(item: T, name: string) =>
  z.object({ items: z.array(item), next_cursor: z.string().nullable() }).openapi(name);

export const idempotencyHeader = z.object({
  "idempotency-key": z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces")
    .optional()
    .openapi({ description: "Replays the original response for a repeated create with the same body." }),
});

export const agentIdParam = z.object({ id: resourceId("agt") });
export const taskIdParam = z.object({ id: resourceId("tsk") });

export const grantBody = <R extends readonly [string, ...string[]]>(relations: R, name: string) =>
  z
    .object({ subject: principalRef, relation: z.enum(relations) })
    .strict()
    .openapi(name);

export const grantView = z
  .object({
    resource: z.object({ type: z.string(), id: z.string() }),
    relation: z.string(),
    subject: principalRef,
  })
  .openapi("Grant");

export const createdBy = principalRef.nullable();

/** Answers a create: its status and body, marked when replayed from an Idempotency-Key. */
export function createdResponse<T>(c: Context<AppEnv>, outcome: CreateOutcome<T>) {
  if (outcome.replayed) c.header("idempotent-replayed", "true");
  return c.json(outcome.body as never, outcome.status as 201);
}
