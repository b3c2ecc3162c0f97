import { type ErrorCode, errorCatalog, problemTypeUri } from "./catalog.ts";
import type { DomainError } from "./domain-error.ts";

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  request_id: string;
  [extension: string]: unknown;
}

const genericDetail: Partial<Record<ErrorCode, string>> = {
  internal: "An unexpected error occurred. Quote the request id when reporting it.",
};

export function problemBody(
  code: ErrorCode,
  requestId: string,
  detail?: string,
  extensions: Record<string, unknown> = {},
): ProblemBody {
  const { status, title } = errorCatalog[code];
  return {
    ...extensions,
    type: problemTypeUri(code),
    title,
    status,
    detail: detail ?? genericDetail[code] ?? title,
    code,
    request_id: requestId,
  };
}

export function problemResponse(body: ProblemBody, retryAfterSeconds?: number): Response {
  const headers = new Headers({
    "content-type": "application/problem+json",
    "x-request-id": body.request_id,
  });
  if (retryAfterSeconds !== undefined) headers.set("retry-after", String(retryAfterSeconds));
  return new Response(JSON.stringify(body), { status: body.status, headers });
}

export function domainErrorResponse(error: DomainError, requestId: string): Response {
  return problemResponse(
    problemBody(error.code, requestId, error.detail, error.extensions),
    error.retryAfterSeconds,
  );
}
