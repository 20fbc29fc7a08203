import { parseRetryAfter } from "../retry/retry-after";
import type { HttpRequest, HttpResponse } from "../seams/transport";
import { type CertboundErrorCode, ServiceError } from "./errors";
import { parseJsonBody, stringField } from "./parse-json-body";
import {
  redactSecrets,
  requestSecrets,
  SERVER_TEXT_LIMITS,
  sanitizeServerText,
  serverText,
} from "./server-text";

/**
 * Options of {@link parseErrorResponse}.
 *
 * @public
 */
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
  /**
   * The request that got this answer: the secrets it carried (its `Authorization`, secret headers,
   * `client_assertion`) are redacted from every server field, so a server echoing them shows nothing.
   */
  sent?: Pick<HttpRequest, "headers" | "body"> | undefined;
  /** Further secret values to redact from the server's fields. */
  secrets?: readonly string[] | undefined;
}

/**
 * Turns an error answer into a {@link ServiceError} with the server's fields (`error`,
 * `error_description`, `error_codes`, `correlation_id`, `trace_id`, `suberror`, `claims`), HTTP
 * status and Retry-After. A body that is not JSON still gives a ServiceError with the status.
 * Every server field is cleaned before it reaches the error: secrets the request carried are
 * redacted, control characters removed, and lengths capped ({@link SERVER_TEXT_LIMITS}).
 *
 * @public
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
  const secrets = [...requestSecrets(options.sent), ...(options.secrets ?? [])];
  const text = (field: Record<string, unknown>, name: string, max: number) =>
    serverText(stringField(field, name), max, secrets);
  const errorCode = nested
    ? text(nested, "code", SERVER_TEXT_LIMITS.code)
    : text(json, "error", SERVER_TEXT_LIMITS.code);
  const descriptionField: [Record<string, unknown>, string] = nested
    ? [nested, "message"]
    : [json, "error_description"];
  const errorDescription = text(...descriptionField, SERVER_TEXT_LIMITS.description);
  const errorCodes = Array.isArray(json.error_codes)
    ? json.error_codes.filter((c): c is number => typeof c === "number").slice(0, 32)
    : undefined;
  const correlationId = text(json, "correlation_id", SERVER_TEXT_LIMITS.id) ?? options.correlationId;
  const hint = options.hint?.(errorCode, response.status, errorCodes);
  const summary = errorCode
    ? `${errorCode}${errorDescription ? `: ${firstLine(stringField(...descriptionField) ?? "", secrets)}` : ""}`
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
      traceId: text(json, "trace_id", SERVER_TEXT_LIMITS.id),
      suberror: text(json, "suberror", SERVER_TEXT_LIMITS.code),
      claims: claimsField(json, secrets),
      retryAfterMs: parseRetryAfter(response.headers["retry-after"], options.now),
    },
  );
}

// A claims challenge goes back to the server verbatim: never cut (invalid JSON), dropped when too
// long. Control characters become spaces, which JSON allows between tokens.
function claimsField(json: Record<string, unknown>, secrets: readonly string[]): string | undefined {
  const claims = stringField(json, "claims");
  if (claims === undefined || claims.length > SERVER_TEXT_LIMITS.claims) return undefined;
  return sanitizeServerText(redactSecrets(claims, secrets), SERVER_TEXT_LIMITS.claims);
}

// Entra descriptions run over several lines with trace and correlation ids; the first is the point.
function firstLine(text: string, secrets: readonly string[]): string {
  const end = text.search(/[\r\n]/);
  return serverText(end === -1 ? text : text.slice(0, end), 300, secrets) ?? "";
}
