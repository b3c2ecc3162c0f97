import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { principalTypes } from "../db/schema/enums.ts";
import type { AppEnv } from "../http/app-env.ts";
import type { CreateOutcome } from "../idempotency/service.ts";
import { decodeCursor, type Page } from "../lib/pagination.ts";

export const principalRef = z
  .object({ type: z.enum(principalTypes), id: z.string().min(1).max(256) })
  .strict()
  .openapi("PrincipalRef");

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

export const idParam = z.object({ id: z.string().min(1).max(64) });

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
