import type { ErrorCode, errorCatalog } from "./catalog.ts";

/** The codes answered with 409, read off the catalog. */
export type ConflictCode = {
  [K in ErrorCode]: (typeof errorCatalog)[K]["status"] extends 409 ? K : never;
}[ErrorCode];

export interface FieldError {
  /** Where the offending value was: the JSON body, the query string, a path parameter or a header. */
  location: "body" | "query" | "path" | "header";
  /** RFC 6901 JSON pointer into that location, e.g. `/principal/type`. */
  pointer: string;
  message: string;
}

/** Base of every error leasehold raises on purpose; `code` is stable and part of the API. */
export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly detail: string;
  /** Extra members rendered into the problem body (never internals). */
  readonly extensions: Record<string, unknown>;
  /** Seconds, rendered as `Retry-After` for retryable failures. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    detail: string,
    options: { extensions?: Record<string, unknown>; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.detail = detail;
    this.extensions = options.extensions ?? {};
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export class MalformedRequestError extends DomainError {
  /** `errors` point at the path segments or query values that could not be read. */
  constructor(detail: string, errors?: FieldError[]) {
    super("malformed_request", detail, errors ? { extensions: { errors } } : {});
  }
}

export class UnauthenticatedError extends DomainError {
  constructor() {
    super("unauthenticated", "A valid credential is required.");
  }
}

export class ForbiddenError extends DomainError {
  constructor(detail = "You do not have permission to do this.") {
    super("forbidden", detail);
  }
}

/** One body for missing, foreign and unreadable resources, so none can be told apart. */
export class NotFoundError extends DomainError {
  constructor() {
    super("not_found", "The resource does not exist.");
  }
}

export class ConflictError extends DomainError {
  constructor(code: ConflictCode, detail: string, extensions: Record<string, unknown> = {}) {
    super(code, detail, { extensions });
  }
}

export class PayloadTooLargeError extends DomainError {
  constructor(detail = "The request body is too large.") {
    super("payload_too_large", detail);
  }
}

export class ValidationError extends DomainError {
  readonly errors: FieldError[];
  constructor(errors: FieldError[], detail = "The request does not match the schema.") {
    super("validation_failed", detail, { extensions: { errors } });
    this.errors = errors;
  }
}

export class RateLimitedError extends DomainError {
  constructor(detail: string, retryAfterSeconds: number) {
    super("rate_limited", detail, { retryAfterSeconds });
  }
}

export class ServiceUnavailableError extends DomainError {
  constructor(code: "db_unavailable" | "authz_unavailable", cause?: unknown) {
    const what = code === "db_unavailable" ? "The database" : "The authorization service";
    super(code, `${what} is unavailable; retry shortly.`, { retryAfterSeconds: 1, cause });
  }
}

/** A binding is missing or invalid. The log names it; the response never does. */
export class MisconfiguredError extends DomainError {
  readonly bindings: string[];
  constructor(bindings: string[]) {
    super("misconfigured", "The service is misconfigured.");
    this.bindings = bindings;
  }
}
