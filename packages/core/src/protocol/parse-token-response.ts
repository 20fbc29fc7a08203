import { MTLS_POP_TOKEN_TYPE, type TokenType } from "../seams/result";
import type { HttpRequest, HttpResponse } from "../seams/transport";
import { parseExpiry, parseRelativeSeconds } from "../token-cache/expiry";
import { CertboundError } from "./errors";
import { parseErrorResponse } from "./parse-error-response";
import { parseJsonBody, stringField } from "./parse-json-body";
import { requestSecrets, serverText } from "./server-text";

/**
 * A validated token endpoint answer.
 *
 * @public
 */
export interface ParsedTokenResponse {
  readonly accessToken: string;
  readonly tokenType: TokenType;
  readonly expiresOn: Date;
  readonly refreshOn?: Date | undefined;
  readonly extExpiresOn?: Date | undefined;
}

/**
 * Options of {@link parseTokenResponse}.
 *
 * @public
 */
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
  /** The request that got this answer: its secrets are redacted from errors, see `parseErrorResponse`. */
  sent?: Pick<HttpRequest, "headers" | "body"> | undefined;
}

/**
 * Validates an Entra token endpoint response (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s2-5-token-response): an error status, or a 2xx
 * whose JSON carries `error`, becomes a {@link ServiceError} with the server's `error`; a success
 * must carry `access_token`, a `token_type` equal to the one asked for (`token_type_missing` /
 * `token_type_mismatch`), and `expires_in` (always relative seconds, however large; `expires_on`
 * is read only when `expires_in` is absent) that is still in the future; `refresh_in` sets
 * `refreshOn`.
 *
 * @public
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
    throw parseErrorResponse(response, { what, now, correlationId, hint: options.hint, sent: options.sent });
  }
  const json = parseJsonBody(response, { code: "invalid_token_response", what, correlationId });
  // An error in a 200 is still an error: it never becomes "no access_token" (MSAL.NET's
  // OAuth2Client treats a 200 carrying `error` as a service error, see expectErrorsOn200OK).
  if (json.error !== undefined && json.error !== null && json.error !== "") {
    throw parseErrorResponse(response, { what, now, correlationId, hint: options.hint });
  }
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
    // The server's text, cleaned: it could hold the token it just sent, or the request's secrets.
    const shown = serverText(rawType, 40, [accessToken, ...requestSecrets(options.sent)]);
    throw new CertboundError(
      "token_type_mismatch",
      `Asked ${what} for a "${options.expectedTokenType}" token and got "${shown}". A PoP request is never downgraded: check that the endpoint supports mTLS PoP.`,
      { correlationId },
    );
  }
  // `expires_in` is a duration on this endpoint: a large value is a long lifetime, never an epoch.
  const expiresAt =
    json.expires_in === undefined
      ? parseExpiry(json.expires_on, now)
      : parseRelativeSeconds(json.expires_in, now);
  if (expiresAt === undefined) {
    throw new CertboundError(
      "invalid_token_response",
      `The answer of ${what} has no readable \`expires_in\` (seconds the token lives).`,
      { correlationId },
    );
  }
  if (expiresAt <= now) {
    throw new CertboundError(
      "invalid_token_response",
      `The answer of ${what} carries a token that has already expired (\`expires_in\` is not positive). Check the identity provider and the system clock.`,
      { correlationId },
    );
  }
  const refreshAt = parseRelativeSeconds(json.refresh_in, now);
  const extAt = parseRelativeSeconds(json.ext_expires_in, now);
  return {
    accessToken,
    tokenType,
    expiresOn: new Date(expiresAt),
    refreshOn: refreshAt === undefined ? undefined : new Date(refreshAt),
    extExpiresOn: extAt === undefined ? undefined : new Date(extAt),
  };
}
