/**
 * Every error code leasehold can answer with, its HTTP status and its title.
 * The single table behind problem+json rendering and the OpenAPI error responses.
 */
export const errorCatalog = {
  malformed_request: { status: 400, title: "Malformed request" },
  unauthenticated: { status: 401, title: "Unauthenticated" },
  forbidden: { status: 403, title: "Forbidden" },
  not_found: { status: 404, title: "Not found" },
  lease_held: { status: 409, title: "Lease held by another worker" },
  lease_lost: { status: 409, title: "Lease lost" },
  task_terminal: { status: 409, title: "Task is terminal" },
  result_conflict: { status: 409, title: "Result conflict" },
  idempotency_key_reused: { status: 409, title: "Idempotency key reused" },
  name_taken: { status: 409, title: "Name taken" },
  run_exists: { status: 409, title: "Run already exists" },
  invalid_state: { status: 409, title: "Not allowed in the task's current state" },
  agent_has_live_tasks: { status: 409, title: "Agent has live tasks" },
  payload_too_large: { status: 413, title: "Payload too large" },
  validation_failed: { status: 422, title: "Validation failed" },
  rate_limited: { status: 429, title: "Rate limited" },
  internal: { status: 500, title: "Internal error" },
  misconfigured: { status: 500, title: "Service misconfigured" },
  authz_unavailable: { status: 503, title: "Authorization unavailable" },
  db_unavailable: { status: 503, title: "Database unavailable" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalog;

export const errorCodes = Object.keys(errorCatalog) as ErrorCode[];

export function problemTypeUri(code: ErrorCode): string {
  return `https://leasehold.dev/problems/${code.replaceAll("_", "-")}`;
}
