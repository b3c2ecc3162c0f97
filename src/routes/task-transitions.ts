import { createRoute } from "@hono/zod-openapi";
import type { z } from "zod";
import { errorCatalog } from "../errors/catalog.ts";
import { NotFoundError } from "../errors/domain-error.ts";
import { authenticatesInStatement } from "../http/authentication.ts";
import { bearerSecurity, errorResponses, jsonBody, jsonContent } from "../http/openapi.ts";
import { createRouter } from "../http/router.ts";
import { type CompletionOutcome, completeBatch, maxBatchCompletions } from "../leases/batch-complete.ts";
import {
  cancelTask,
  completeTask,
  failTask,
  provideInput,
  reportProgress,
  requireInput,
} from "../leases/transitions.ts";
import { isId } from "../lib/ids.ts";
import { taskIdParam } from "./schemas.ts";
import {
  batchCompleteBody,
  batchCompleteResult,
  cancelBody,
  completeBody,
  failBody,
  inputBody,
  inputRequiredBody,
  progressBody,
  task,
} from "./task-schemas.ts";

const notFound = (id: string): CompletionOutcome => {
  const { code, detail } = new NotFoundError();
  return { id, error: { status: errorCatalog[code].status, code, title: errorCatalog[code].title, detail } };
};

const conflicts = errorResponses(
  "unauthenticated",
  "forbidden",
  "not_found",
  "validation_failed",
  "task_terminal",
  "result_conflict",
  "invalid_state",
  "lease_held",
  "lease_lost",
);

const transitionRoute = <B extends z.ZodType>(path: string, summary: string, body: B) =>
  createRoute({
    method: "post",
    path: `/v1/tasks/{id}/${path}`,
    tags: ["task transitions"],
    summary,
    security: bearerSecurity,
    middleware: [authenticatesInStatement] as const,
    request: { params: taskIdParam, body: jsonBody(body) },
    responses: { 200: jsonContent(task, "The task after the transition"), ...conflicts },
  });

export const taskTransitionRoutes = createRouter()
  .openapi(
    transitionRoute("progress", "Report progress; a submitted task becomes working", progressBody),
    async (c) => {
      const body = c.req.valid("json");
      return c.json(await reportProgress(c.var.service, c.req.valid("param").id, body.progress, body), 200);
    },
  )
  .openapi(
    transitionRoute("input-required", "Ask a person for input; releases the lease", inputRequiredBody),
    async (c) => {
      const body = c.req.valid("json");
      return c.json(await requireInput(c.var.service, c.req.valid("param").id, body.prompt, body), 200);
    },
  )
  .openapi(
    transitionRoute("input", "Answer the task's prompt; it becomes claimable again", inputBody),
    async (c) =>
      c.json(await provideInput(c.var.service, c.req.valid("param").id, c.req.valid("json").input), 200),
  )
  .openapi(
    transitionRoute("complete", "Complete with a result (idempotent for an equal result)", completeBody),
    async (c) => {
      const body = c.req.valid("json");
      return c.json(await completeTask(c.var.service, c.req.valid("param").id, body.result, body), 200);
    },
  )
  .openapi(
    transitionRoute("fail", "Fail; retryable failures return to the queue while attempts remain", failBody),
    async (c) => {
      const body = c.req.valid("json");
      return c.json(
        await failTask(c.var.service, c.req.valid("param").id, body.error, body.retryable ?? false, body),
        200,
      );
    },
  )
  .openapi(transitionRoute("cancel", "Cancel a task that has not finished", cancelBody), async (c) =>
    c.json(await cancelTask(c.var.service, c.req.valid("param").id, c.req.valid("json").reason), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/tasks/batch-complete",
      tags: ["task transitions"],
      summary: `Complete up to ${maxBatchCompletions} leased tasks at once; each item answered on its own`,
      security: bearerSecurity,
      middleware: [authenticatesInStatement] as const,
      request: { body: jsonBody(batchCompleteBody) },
      responses: {
        200: jsonContent(batchCompleteResult, "One outcome per item, in request order"),
        ...errorResponses("unauthenticated", "validation_failed", "payload_too_large"),
      },
    }),
    async (c) => {
      const items = c.req.valid("json").items;
      // An item whose id no task can have is answered as a missing task, without a lookup.
      const known = items.filter((item) => isId("tsk", item.id));
      const outcomes = known.length > 0 ? (await completeBatch(c.var.service, known)).items : [];
      const inOrder = items.map(
        (item) => (isId("tsk", item.id) ? outcomes.shift() : undefined) ?? notFound(item.id),
      );
      return c.json({ items: inOrder }, 200);
    },
  );
