import { type CertboundErrorCode, ServiceError } from "./errors";
import { parseJsonBody, stringField } from "./parse-json-body";
import { parseRetryAfter } from "./retry-after";
import type { HttpResponse } from "./transport";

/** Options of {@link parseErrorResponse}. */
export interface ParseErrorOptions {
  /** Human name of the endpoint for messages, e.g. "Entra ID's token endpoint". */
  what: string;
  now: number;
  correlationId?: string | undefined;
  /** Code of the resulting error. @default "service_error" */
  code?: CertboundErrorCode;
  /**
   * A fix-it sentence for a given server `error` (and its AADSTS numbers, `error_codes`, which
   * tell cases apart that share one `error`), appended to the message.
   */
  hint?:
    | ((
        errorCode: string | undefined,
        status: number,
        errorCodes?: readonly number[] | undefined,
      ) => string | undefined)
    | undefined;
}

/**
 * Turns an error answer into a {@link ServiceError} with the server's fields (`error`,
 * `error_description`, `error_codes`, `correlation_id`, `trace_id`, `suberror`, `claims`), HTTP
 * status and Retry-After. A body that is not JSON still gives a ServiceError with the status.
 *
 * @example
 * ```ts
 * if (response.status >= 400) throw parseErrorResponse(response, { what: "the token endpoint", now: Date.now() });
 * ```
 */
export function parseErrorResponse(response: HttpResponse, options: ParseErrorOptions): ServiceError {
  let json: Record<string, unknown> = {};
  try {
    json = parseJsonBody(response, { code: "service_error", what: options.what });
  } catch {
    // A non-JSON error page (a proxy, a load balancer) still yields the status below.
  }
  // Managed-identity sources nest their error: { error: { code, message } }.
  const nested =
    typeof json.error === "object" && json.error !== null
      ? (json.error as Record<string, unknown>)
      : undefined;
  const errorCode = nested ? stringField(nested, "code") : stringField(json, "error");
  const errorDescription = nested ? stringField(nested, "message") : stringField(json, "error_description");
  const errorCodes = Array.isArray(json.error_codes)
    ? json.error_codes.filter((c): c is number => typeof c === "number")
    : undefined;
  const correlationId = stringField(json, "correlation_id") ?? options.correlationId;
  const hint = options.hint?.(errorCode, response.status, errorCodes);
  const summary = errorCode
    ? `${errorCode}${errorDescription ? `: ${firstLine(errorDescription)}` : ""}`
    : "no error details";
  return new ServiceError(
    options.code ?? "service_error",
    `${options.what} answered HTTP ${response.status} (${summary}).${hint ? ` ${hint}` : ""}${correlationId ? ` Correlation id: ${correlationId}.` : ""}`,
    {
      status: response.status,
      errorCode,
      errorDescription,
      errorCodes,
      correlationId,
      traceId: stringField(json, "trace_id"),
      suberror: stringField(json, "suberror"),
      claims: stringField(json, "claims"),
      retryAfterMs: parseRetryAfter(response.headers["retry-after"], options.now),
    },
  );
}

// Entra descriptions run over several lines with trace and correlation ids; the first is the point.
function firstLine(text: string): string {
  const line = text.split(/\r?\n/, 1)[0] ?? "";
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
}
