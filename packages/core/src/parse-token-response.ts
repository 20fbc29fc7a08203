import { CertboundError } from "./errors";
import { parseExpiry } from "./expiry";
import { parseErrorResponse } from "./parse-error-response";
import { parseJsonBody, stringField } from "./parse-json-body";
import { MTLS_POP_TOKEN_TYPE, type TokenType } from "./result";
import type { HttpResponse } from "./transport";

/** A validated token endpoint answer. */
export interface ParsedTokenResponse {
  readonly accessToken: string;
  readonly tokenType: TokenType;
  readonly expiresOn: Date;
  readonly refreshOn?: Date | undefined;
  readonly extExpiresOn?: Date | undefined;
}

/** Options of {@link parseTokenResponse}. */
export interface ParseTokenResponseOptions {
  /** The token type asked for; the answer must match it (case-insensitive). */
  expectedTokenType: TokenType;
  now: number;
  correlationId?: string | undefined;
  /** For messages. @default "the token endpoint" */
  what?: string;
  /** Fix-it sentences for error answers, see `parseErrorResponse`. */
  hint?:
    | ((
        errorCode: string | undefined,
        status: number,
        errorCodes?: readonly number[] | undefined,
      ) => string | undefined)
    | undefined;
}

/**
 * Validates an Entra token endpoint response (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s2-5-token-response): an error status becomes a
 * {@link ServiceError}; a success must carry `access_token`, a `token_type` equal to the one asked
 * for (`token_type_missing` / `token_type_mismatch`), and `expires_in`; `refresh_in` sets `refreshOn`.
 *
 * @example
 * ```ts
 * const token = parseTokenResponse(response, { expectedTokenType: "mtls_pop", now: Date.now() });
 * ```
 */
export function parseTokenResponse(
  response: HttpResponse,
  options: ParseTokenResponseOptions,
): ParsedTokenResponse {
  const what = options.what ?? "the token endpoint";
  const { correlationId, now } = options;
  if (response.status < 200 || response.status >= 300) {
    throw parseErrorResponse(response, { what, now, correlationId, hint: options.hint });
  }
  const json = parseJsonBody(response, { code: "invalid_token_response", what, correlationId });
  const accessToken = stringField(json, "access_token");
  if (!accessToken) {
    throw new CertboundError("invalid_token_response", `The answer of ${what} has no \`access_token\`.`, {
      correlationId,
    });
  }
  const rawType = stringField(json, "token_type");
  if (!rawType) {
    throw new CertboundError(
      "token_type_missing",
      `The answer of ${what} has no \`token_type\`; expected "${options.expectedTokenType}".`,
      { correlationId },
    );
  }
  const tokenType: TokenType | undefined =
    rawType.toLowerCase() === MTLS_POP_TOKEN_TYPE
      ? MTLS_POP_TOKEN_TYPE
      : rawType.toLowerCase() === "bearer"
        ? "Bearer"
        : undefined;
  if (tokenType !== options.expectedTokenType) {
    throw new CertboundError(
      "token_type_mismatch",
      `Asked ${what} for a "${options.expectedTokenType}" token and got "${rawType.slice(0, 40)}". A PoP request is never downgraded: check that the endpoint supports mTLS PoP.`,
      { correlationId },
    );
  }
  const expiresAt = parseExpiry(json.expires_in, now) ?? parseExpiry(json.expires_on, now);
  if (expiresAt === undefined) {
    throw new CertboundError(
      "invalid_token_response",
      `The answer of ${what} has no readable \`expires_in\`.`,
      {
        correlationId,
      },
    );
  }
  const refreshAt = parseExpiry(json.refresh_in, now);
  const extAt = parseExpiry(json.ext_expires_in, now);
  return {
    accessToken,
    tokenType,
    expiresOn: new Date(expiresAt),
    refreshOn: refreshAt === undefined ? undefined : new Date(refreshAt),
    extExpiresOn: extAt === undefined ? undefined : new Date(extAt),
  };
}
