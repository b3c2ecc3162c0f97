import { OpenAPIHono } from "@hono/zod-openapi";
import type { z } from "zod";
import { type FieldError, ValidationError } from "../errors/domain-error.ts";
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
    pointer: `/${issue.path.map((segment) => String(segment).replaceAll("~", "~0").replaceAll("/", "~1")).join("/")}`,
    message: issue.message,
  }));
}

/** Every router validates with zod and answers schema violations as 422 with field errors. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw new ValidationError(toFieldErrors(result.error, result.target));
    },
  });
}
