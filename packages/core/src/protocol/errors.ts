/**
 * Every error certbound throws is a {@link CertboundError} with a stable {@link CertboundErrorCode}.
 * Messages say what went wrong and how to fix it; they never contain a token, key, assertion,
 * passphrase or secret, and no request object with credentials is ever attached.
 */

/**
 * The stable error codes. Switch on `err.code`; the union narrows.
 *
 * @public
 * @example
 * ```ts
 * try {
 *   await app.acquireTokenForClient({ scopes, mtlsProofOfPossession: true });
 * } catch (err) {
 *   if (isCertboundError(err) && err.code === "service_error") console.error(err.errorCode);
 * }
 * ```
 */
export type CertboundErrorCode =
  // Protocol codes (see https://github.com/certbound/certbound/blob/main/docs/protocol.md#s9-error-codes), shared with MSAL.
  | "mtls_pop_not_supported_for_environment"
  | "missing_tenanted_authority"
  | "cert_without_private_key"
  | "mtls_certificate_not_provided"
  | "token_type_missing"
  | "token_type_mismatch"
  | "mtls_pop_token_not_supported_in_imds_v1"
  | "managed_identity_request_failed"
  | "managed_identity_response_parse_failure"
  | "managed_identity_unsupported_identity"
  // IMDS v2 refused to certify a key without an attestation token; an attestation provider failed.
  | "managed_identity_attestation_required"
  | "attestation_failed"
  | "invalid_certificate"
  // The identity provider or another service answered with an error body.
  | "service_error"
  // A token endpoint answered 2xx with a body that is not a usable token response.
  | "invalid_token_response"
  // Client-side input and configuration.
  | "invalid_options"
  | "invalid_private_key"
  | "wrong_passphrase"
  | "certificate_expired"
  | "certificate_not_yet_valid"
  // Transport and control flow.
  | "network_error"
  | "tls_handshake_failed"
  | "timeout"
  | "aborted"
  | "response_too_large"
  | "throttled"
  // Calling a resource with a token.
  | "binding_certificate_missing"
  | "binding_certificate_mismatch"
  | "resource_unauthorized"
  | "pop_validation_failed";

/**
 * Options accepted by every {@link CertboundError} constructor.
 *
 * @public
 */
export interface CertboundErrorOptions {
  /** The underlying error. Redact it first if it may carry a secret. */
  cause?: unknown;
  /** The correlation id (`client-request-id`) of the request that failed, when there was one. */
  correlationId?: string | undefined;
}

const BRAND = Symbol.for("certbound.error");

/**
 * Base class of every certbound error.
 *
 * @public
 * @example
 * ```ts
 * throw new CertboundError("invalid_options", "@certbound/core: `scopes` must not be empty. Pass at least one scope.");
 * ```
 */
export class CertboundError extends Error {
  /** Stable machine-readable code. */
  readonly code: CertboundErrorCode;
  /** Correlation id of the failed request, if any: quote it when asking for support. */
  readonly correlationId: string | undefined;
  override readonly name: string = "CertboundError";

  constructor(code: CertboundErrorCode, message: string, options: CertboundErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.correlationId = options.correlationId;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/**
 * Details an identity provider or managed-identity endpoint sends with an error.
 *
 * @public
 */
export interface ServiceErrorDetails extends CertboundErrorOptions {
  /** HTTP status of the response. */
  status: number;
  /** The server's `error` field, e.g. `invalid_client`. */
  errorCode?: string | undefined;
  /** The server's `error_description` (it holds the AADSTS code on Entra). */
  errorDescription?: string | undefined;
  /** The server's `error_codes`, e.g. `[700027]`. */
  errorCodes?: readonly number[] | undefined;
  /** The server's `trace_id`. */
  traceId?: string | undefined;
  /** The server's `suberror`. */
  suberror?: string | undefined;
  /** The server's `claims` challenge, to pass back as `claims` on the next request. */
  claims?: string | undefined;
  /** Milliseconds the server asked us to wait (`Retry-After`), when it said so. */
  retryAfterMs?: number | undefined;
}

/**
 * An error answer from a service: Entra's token endpoint, IMDS, another managed-identity source,
 * or a protected resource. Carries the server's fields as they were sent.
 *
 * @public
 * @example
 * ```ts
 * if (err instanceof ServiceError && err.errorCode === "invalid_client") {
 *   console.error(err.errorDescription, err.correlationId);
 * }
 * ```
 */
export class ServiceError extends CertboundError {
  override readonly name: string = "ServiceError";
  readonly status: number;
  readonly errorCode: string | undefined;
  readonly errorDescription: string | undefined;
  readonly errorCodes: readonly number[] | undefined;
  readonly traceId: string | undefined;
  readonly suberror: string | undefined;
  readonly claims: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: CertboundErrorCode, message: string, details: ServiceErrorDetails) {
    super(code, message, details);
    this.status = details.status;
    this.errorCode = details.errorCode;
    this.errorDescription = details.errorDescription;
    this.errorCodes = details.errorCodes;
    this.traceId = details.traceId;
    this.suberror = details.suberror;
    this.claims = details.claims;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/**
 * True when `value` is a certbound error, also across duplicate copies of the package.
 *
 * @public
 * @example
 * ```ts
 * if (isCertboundError(err)) switch (err.code) { case "timeout": retryLater(); break; }
 * ```
 */
export function isCertboundError(value: unknown): value is CertboundError {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * Shortcut used across packages for option validation errors, prefixed with the package name.
 *
 * @public
 * @example
 * ```ts
 * throw invalidOptions("@certbound/my-package", "`scopes` must not be empty.");
 * ```
 */
export function invalidOptions(pkg: string, message: string): CertboundError {
  return new CertboundError("invalid_options", `${pkg}: ${message}`);
}
