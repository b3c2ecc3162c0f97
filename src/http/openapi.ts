import { z } from "@hono/zod-openapi";
import { type ErrorCode, errorCatalog, errorCodes } from "../errors/catalog.ts";

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(errorCodes as [ErrorCode, ...ErrorCode[]]),
    request_id: z.string(),
    errors: z
      .array(
        z.object({
          location: z.enum(["body", "query", "path", "header"]),
          pointer: z.string(),
          message: z.string(),
        }),
      )
      .optional(),
  })
  .openapi("Problem");

/** Errors any route can answer with. */
const everywhere: ErrorCode[] = [
  "malformed_request",
  "payload_too_large",
  "internal",
  "misconfigured",
  "db_unavailable",
  // The per-address limit applies to every request, before authentication.
  "rate_limited",
];

/** OpenAPI error responses for a route, grouped by status, from the one error catalog. */
export function errorResponses(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set([...everywhere, ...codes])) {
    const status = errorCatalog[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      status,
      {
        description: list.map((code) => `\`${code}\`: ${errorCatalog[code].title}`).join("; "),
        content: { "application/problem+json": { schema: problemSchema } },
      },
    ]),
  );
}

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const bearerSecurity = [{ apiKey: [] }];
export const adminSecurity = [{ adminToken: [] }];
