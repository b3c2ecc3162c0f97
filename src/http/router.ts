import { OpenAPIHono } from "@hono/zod-openapi";
import type { z } from "zod";
import { type FieldError, NotFoundError, ValidationError } from "../errors/domain-error.ts";
import type { AppEnv } from "./app-env.ts";

const locations: Record<string, FieldError["location"]> = {
  json: "body",
  query: "query",
  param: "path",
  header: "header",
};

export function toFieldErrors(error: z.ZodError, target: string): FieldError[] {
  return error.issues.map((issue) => ({
    location: locations[target] ?? "body",
    // RFC 6901: the whole document is "", not "/".
    pointer: issue.path
      .map((segment) => `/${String(segment).replaceAll("~", "~0").replaceAll("/", "~1")}`)
      .join(""),
    message: issue.message,
  }));
}

/**
 * Every router validates with zod and answers schema violations as 422 with field errors. The one
 * exception: a path id not in its resource's format (the only path parameters with a pattern)
 * names nothing, so it is the same 404 as a missing resource, decided before any lookup.
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      if (result.target === "param" && result.error.issues.some((issue) => issue.code === "invalid_format"))
        throw new NotFoundError();
      throw new ValidationError(toFieldErrors(result.error, result.target));
    },
  });
}
