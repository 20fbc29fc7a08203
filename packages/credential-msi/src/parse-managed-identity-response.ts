import { CertboundError, type HttpRequest, type HttpResponse } from "@certbound/core";
import {
  halfLifeRefresh,
  parseErrorResponse,
  parseExpiry,
  parseJsonBody,
  stringField,
} from "@certbound/core/credential-kit";

/** A token as a Bearer managed-identity source returned it. */
export interface ManagedIdentityToken {
  readonly accessToken: string;
  readonly expiresOn: Date;
  readonly refreshOn: Date | undefined;
}

/** Options of {@link parseManagedIdentityResponse}. */
export interface ParseManagedIdentityResponseOptions {
  /** The endpoint's name in messages, e.g. "IMDS". */
  readonly what: string;
  readonly now: number;
  readonly correlationId: string;
  readonly hint?: ((errorCode: string | undefined, status: number) => string | undefined) | undefined;
  /**
   * The request that got this answer: its secret header (App Service `X-IDENTITY-HEADER`, Service
   * Fabric and Machine Learning `secret`, Azure Arc's `Authorization`) is redacted from errors.
   */
  readonly sent?: Pick<HttpRequest, "headers" | "body"> | undefined;
}

/**
 * Validates the answer of a managed-identity token endpoint (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s4-4-response): an error
 * status becomes a `ServiceError` (also for the nested `{ error: { code, message } }` shape);
 * invalid JSON is `managed_identity_response_parse_failure`; a missing `access_token` or expiry is
 * `managed_identity_request_failed`, and so is a token already expired. `expires_on` (absolute or
 * relative seconds, or a date; strictly parsed) wins over `expires_in`; tokens living more than 2 hours are refreshed at half-life.
 *
 * @example
 * ```ts
 * const token = parseManagedIdentityResponse(response, { what: "App Service", now: clock.now(), correlationId });
 * ```
 */
export function parseManagedIdentityResponse(
  response: HttpResponse,
  options: ParseManagedIdentityResponseOptions,
): ManagedIdentityToken {
  const { what, now, correlationId } = options;
  if (response.status < 200 || response.status >= 300) {
    throw parseErrorResponse(response, { what, now, correlationId, hint: options.hint, sent: options.sent });
  }
  const json = parseJsonBody(response, {
    code: "managed_identity_response_parse_failure",
    what,
    correlationId,
  });
  const accessToken = stringField(json, "access_token");
  if (!accessToken) {
    throw new CertboundError(
      "managed_identity_request_failed",
      `The answer of ${what} has no \`access_token\`.`,
      { correlationId },
    );
  }
  const expiresAt = parseExpiry(json.expires_on, now) ?? parseExpiry(json.expires_in, now);
  if (expiresAt === undefined) {
    throw new CertboundError(
      "managed_identity_request_failed",
      `The answer of ${what} has no readable \`expires_on\` or \`expires_in\`.`,
      { correlationId },
    );
  }
  if (expiresAt <= now) {
    throw new CertboundError(
      "managed_identity_request_failed",
      `The answer of ${what} carries a token that has already expired (\`expires_on\` / \`expires_in\` is not in the future). Check the system clock of this machine.`,
      { correlationId },
    );
  }
  const refreshAt = parseExpiry(json.refresh_in, now) ?? halfLifeRefresh(now, expiresAt);
  return {
    accessToken,
    expiresOn: new Date(expiresAt),
    refreshOn: refreshAt === undefined ? undefined : new Date(refreshAt),
  };
}
