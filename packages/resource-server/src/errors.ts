import { PACKAGE } from "./package-name";

/**
 * Why a request's token was refused. Stable: log it, alert on it, branch on it.
 *
 * @public
 * @example
 * ```ts
 * if (error instanceof TokenValidationError && error.code === "certificate_mismatch") metrics.count("pop_mismatch");
 * ```
 */
export type TokenValidationCode =
  | "missing_token"
  | "malformed_token"
  | "token_too_large"
  | "unsupported_algorithm"
  | "unknown_signing_key"
  | "invalid_signature"
  | "invalid_issuer"
  | "invalid_audience"
  | "invalid_tenant"
  | "token_expired"
  | "token_not_yet_valid"
  | "bearer_not_accepted"
  | "unsupported_confirmation"
  | "certificate_required"
  | "certificate_mismatch"
  | "untrusted_forwarded_certificate"
  | "insufficient_scope"
  | "jwks_unavailable";

/** RFC 6750 section 3.1 error codes, as sent in `WWW-Authenticate`. */
type BearerError = "invalid_request" | "invalid_token" | "insufficient_scope";

const DETAILS: Record<TokenValidationCode, { status: number; error: BearerError | undefined }> = {
  // RFC 6750 section 3.1: a request without credentials gets a challenge with no error code.
  missing_token: { status: 401, error: undefined },
  malformed_token: { status: 401, error: "invalid_token" },
  token_too_large: { status: 401, error: "invalid_token" },
  unsupported_algorithm: { status: 401, error: "invalid_token" },
  unknown_signing_key: { status: 401, error: "invalid_token" },
  invalid_signature: { status: 401, error: "invalid_token" },
  invalid_issuer: { status: 401, error: "invalid_token" },
  invalid_audience: { status: 401, error: "invalid_token" },
  invalid_tenant: { status: 401, error: "invalid_token" },
  token_expired: { status: 401, error: "invalid_token" },
  token_not_yet_valid: { status: 401, error: "invalid_token" },
  bearer_not_accepted: { status: 401, error: "invalid_token" },
  unsupported_confirmation: { status: 401, error: "invalid_token" },
  certificate_required: { status: 401, error: "invalid_token" },
  certificate_mismatch: { status: 401, error: "invalid_token" },
  untrusted_forwarded_certificate: { status: 401, error: "invalid_token" },
  insufficient_scope: { status: 403, error: "insufficient_scope" },
  // The keys could not be fetched: the token may be fine, the client should retry later.
  jwks_unavailable: { status: 503, error: undefined },
};

/**
 * A refused request: `code` for logs and metrics, `status` and `wwwAuthenticate` for the answer
 * (RFC 6750 section 3). The message says what was wrong without quoting the token.
 *
 * @public
 * @example
 * ```ts
 * try {
 *   await validator.validate({ authorization: req.headers.authorization, socket: req.socket, headers: req.headers });
 * } catch (error) {
 *   if (error instanceof TokenValidationError) logger.warn({ code: error.code }, error.message);
 * }
 * ```
 */
export class TokenValidationError extends Error {
  override readonly name = "TokenValidationError";
  readonly code: TokenValidationCode;
  /** The HTTP status to answer with: 401, 403 (`insufficient_scope`) or 503 (`jwks_unavailable`). */
  readonly status: number;
  /** RFC 6750 `error` code, when the challenge carries one. */
  readonly bearerError: BearerError | undefined;
  /** Short text for `error_description`: printable ASCII, no quotes or backslashes. */
  readonly description: string;

  constructor(code: TokenValidationCode, description: string, options?: { cause?: unknown }) {
    super(`${PACKAGE}: ${description}`, options);
    this.code = code;
    this.status = DETAILS[code].status;
    this.bearerError = DETAILS[code].error;
    this.description = description.replace(/[^\x20-\x7e]|["\\]/g, "'").slice(0, 300);
  }

  /** The `WWW-Authenticate` header value; undefined for 503. */
  get wwwAuthenticate(): string | undefined {
    if (this.status === 503) return undefined;
    if (this.bearerError === undefined) return "Bearer";
    return `Bearer error="${this.bearerError}", error_description="${this.description}"`;
  }
}

/**
 * Whether `value` is a {@link TokenValidationError}.
 *
 * @public
 * @example
 * ```ts
 * if (isTokenValidationError(error)) res.status(error.status);
 * ```
 */
export function isTokenValidationError(value: unknown): value is TokenValidationError {
  return value instanceof TokenValidationError;
}
