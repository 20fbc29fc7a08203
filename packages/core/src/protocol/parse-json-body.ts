import { DEFAULT_MAX_RESPONSE_BYTES, type HttpResponse } from "../seams/transport";
import { CertboundError, type CertboundErrorCode } from "./errors";

/**
 * Parses a response body as a JSON object, refusing bodies over the cap. The error message names
 * the endpoint and the status but never quotes the body, which may hold a token.
 *
 * @public
 * @example
 * ```ts
 * const json = parseJsonBody(response, { code: "invalid_token_response", what: "the token endpoint" });
 * ```
 */
export function parseJsonBody(
  response: HttpResponse,
  options: { code: CertboundErrorCode; what: string; correlationId?: string | undefined; maxBytes?: number },
): Record<string, unknown> {
  const max = options.maxBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  // A JS string holds at most 3 bytes of UTF-8 per UTF-16 unit; measure exactly only when close.
  if (
    response.body.length > max ||
    (response.body.length * 3 > max && Buffer.byteLength(response.body) > max)
  ) {
    throw new CertboundError(
      "response_too_large",
      `The response of ${options.what} (HTTP ${response.status}) is larger than ${max} bytes and was refused.`,
      { correlationId: options.correlationId },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(response.body);
  } catch {
    throw new CertboundError(
      options.code,
      `The response of ${options.what} (HTTP ${response.status}) is not valid JSON (${response.body.length} characters). Check the endpoint URL and any proxy in between.`,
      { correlationId: options.correlationId },
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CertboundError(
      options.code,
      `The response of ${options.what} (HTTP ${response.status}) is JSON but not an object.`,
      { correlationId: options.correlationId },
    );
  }
  return value as Record<string, unknown>;
}

/**
 * The value when it is a non-empty string, else `undefined`.
 *
 * @public
 * @example
 * ```ts
 * const token = stringField(json, "access_token");
 * ```
 */
export function stringField(json: Record<string, unknown>, name: string): string | undefined {
  const value = json[name];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}
