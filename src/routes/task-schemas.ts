import { z } from "@hono/zod-openapi";
import { taskEvents, tasks } from "../db/schema/tasks.ts";
import { maxBatchCompletions } from "../leases/batch-complete.ts";
import { a2aStates, taskStates } from "../lifecycle/task-lifecycle.ts";
import { rowSchema } from "./row-schema.ts";
import { createdBy, jsonValue } from "./schemas.ts";

export const taskType = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._:/-]+$/, "letters, digits and . _ : / -");
export const taskName = z.string().min(1).max(200);

const taskRow = rowSchema(tasks);
const taskEventRow = rowSchema(taskEvents);

export const task = taskRow
  .pick({
    id: true,
    agent_id: true,
    type: true,
    name: true,
    state: true,
    priority: true,
    input: true,
    progress: true,
    input_request: true,
    input_response: true,
    result: true,
    error: true,
    cancel_reason: true,
    attempts: true,
    max_attempts: true,
    compensation_attempts: true,
    redriven_from: true,
    created_at: true,
    updated_at: true,
    finished_at: true,
  })
  .extend({
    a2a_state: z.enum(a2aStates),
    metadata: z.record(z.string(), z.unknown()),
    schedule_id: taskRow.shape.schedule_id.openapi({
      description: "The schedule that spawned this run, if any.",
    }),
    scheduled_for: taskRow.shape.scheduled_for.openapi({
      description: "The schedule instant this run is for.",
    }),
    lease: z
      .object({
        worker_id: z.string(),
        epoch: taskRow.shape.lease_epoch,
        expires_at: taskRow.shape.lease_expires_at,
      })
      .nullable(),
    created_by: createdBy,
  })
  .openapi("Task");

export const taskEvent = taskEventRow
  .pick({
    id: true,
    task_id: true,
    type: true,
    from_state: true,
    to_state: true,
    lease_epoch: true,
    data: true,
    created_at: true,
  })
  .extend({ actor: z.object({ type: taskEventRow.shape.actor_type, id: taskEventRow.shape.actor_id }) })
  .openapi("TaskEvent");

export const createTaskBody = z
  .object({
    agent_id: z.string().min(1).max(64),
    type: taskType,
    name: taskName.optional(),
    input: z.unknown().optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    max_attempts: z.number().int().min(1).max(100).optional(),
    priority: z.number().int().min(-1000).max(1000).optional(),
  })
  .strict()
  .openapi("CreateTask");

/** `created_by=user:<id>` or `created_by=service_account:<id>`. */
const createdByFilter = z
  .string()
  .max("service_account:".length + 256)
  .regex(/^(user|service_account):.+$/, "user:<id> or service_account:<id>")
  .transform((value) => {
    const at = value.indexOf(":");
    return { type: value.slice(0, at) as "user" | "service_account", id: value.slice(at + 1) };
  });

export const taskListQuery = z.object({
  agent_id: z.string().max(64).optional(),
  state: z
    .string()
    .transform((value) => value.split(","))
    .pipe(z.array(z.enum(taskStates)).min(1))
    .optional()
    .openapi({ description: "One state or a comma-separated list." }),
  type: taskType.optional(),
  created_by: createdByFilter
    .optional()
    .openapi({ type: "string", description: "user:<id> or service_account:<id>" }),
  stale: z
    .enum(["true", "false"])
    .transform((value) => value === "true")
    .optional()
    .openapi({ description: "true: leases that expired and were not reclaimed yet." }),
});

const leaseToken = {
  worker_id: z.string().min(1).max(200).optional(),
  epoch: z.number().int().min(0).optional(),
};

/** A body that may carry a fencing token: worker_id and epoch travel together. */
const fenced = <S extends z.ZodRawShape>(shape: S, name: string) =>
  z
    .object({ ...shape, ...leaseToken })
    .strict()
    .refine(
      (body) => {
        const token = body as { worker_id?: unknown; epoch?: unknown };
        return (token.worker_id === undefined) === (token.epoch === undefined);
      },
      {
        message: "worker_id and epoch must be sent together",
        path: ["epoch"],
      },
    )
    .openapi(name);

export const progressBody = fenced({ progress: jsonValue }, "Progress");
export const inputRequiredBody = fenced({ prompt: jsonValue }, "InputRequired");
export const inputBody = z.object({ input: jsonValue }).strict().openapi("Input");
export const completeBody = fenced({ result: jsonValue }, "Complete");
export const batchCompleteBody = z
  .object({
    items: z
      .array(
        z
          .object({
            id: z.string().min(1).max(64),
            worker_id: z.string().min(1).max(200),
            epoch: z.number().int().min(0),
            result: jsonValue,
          })
          .strict(),
      )
      .min(1)
      .max(maxBatchCompletions),
  })
  .strict()
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.items.forEach((item, index) => {
      if (seen.has(item.id))
        ctx.addIssue({ code: "custom", path: ["items", index, "id"], message: "Listed twice." });
      seen.add(item.id);
    });
  })
  .openapi("BatchComplete");
export const batchCompleteResult = z
  .object({
    items: z.array(
      z.union([
        z.object({ id: z.string(), task }),
        z.object({
          id: z.string(),
          error: z.object({
            status: z.number().int(),
            code: z.string(),
            title: z.string(),
            detail: z.string(),
            state: z.string().optional(),
          }),
        }),
      ]),
    ),
  })
  .openapi("BatchCompleteResult");
export const failBody = fenced({ error: jsonValue, retryable: z.boolean().optional() }, "Fail");
export const cancelBody = z
  .object({ reason: z.string().min(1).max(2000) })
  .strict()
  .openapi("Cancel");
export const auditNoteBody = z
  .object({ note: z.string().min(1).max(10_000) })
  .strict()
  .openapi("AuditNote");
