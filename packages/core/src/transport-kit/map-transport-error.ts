import { CertboundError, isCertboundError } from "../protocol/errors";
import { PIN_MISMATCH } from "./server-pin";
import { PROXY_REFUSED } from "./tunnel";

// OpenSSL verification results, Node's TLS errors and ours. A TLS failure gets its own code because
// a managed identity reacts to it by minting a new certificate.
const TLS_CODE =
  /^(ERR_SSL_|ERR_TLS_|ERR_OSSL_|UNABLE_TO_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE|ERR_CERTBOUND_PIN)/;

/**
 * The code and message that describe a failure: a TLS code found anywhere in the error's causes
 * or aggregated errors wins (the handshake is what went wrong), else the outermost code.
 *
 * @public
 * @example
 * ```ts
 * const failure: TransportFailure = describeTransportFailure(error); // { code: "ECONNRESET", message: "socket hang up" }
 * ```
 */
export interface TransportFailure {
  /** `""` when no code was found. */
  readonly code: string;
  readonly message: string;
}

/**
 * Where a request was when it failed, and what the HTTP client's own errors mean.
 *
 * @public
 * @example
 * ```ts
 * const context: TransportErrorContext = {
 *   endpoint,
 *   withCertificate: request.clientIdentity !== undefined,
 *   timeoutCodes: ["UND_ERR_HEADERS_TIMEOUT"],
 * };
 * ```
 */
export interface TransportErrorContext {
  /** The URL without its query string (`endpointOf(request.url)`), named in every message. */
  readonly endpoint: string;
  /** A client certificate was presented. */
  readonly withCertificate: boolean;
  /** The client's own codes that mean a timeout; Node's `ETIMEDOUT` always does. */
  readonly timeoutCodes?: readonly string[] | undefined;
  /**
   * Whether the failure shows the server closed the connection before answering. With a client
   * certificate presented, the message then says the server may have rejected it (TLS 1.3 servers
   * reject client certificates after the handshake). The default recognises Node's http stack:
   * `ECONNRESET` with "socket hang up", which Node reports only before any response arrived.
   */
  readonly closedBeforeAnswer?: ((failure: TransportFailure) => boolean) | undefined;
  /**
   * Returns what may be attached as `cause`. Give it when the client's errors carry the request
   * (headers, `Authorization` included); the default attaches the error as it is.
   */
  readonly redact?: ((error: unknown) => unknown) | undefined;
}

/**
 * Finds the code and message of whatever an HTTP client or Node threw.
 *
 * @public
 * @example
 * ```ts
 * const { code, message } = describeTransportFailure(error);
 * if (code === "ERR_BAD_RESPONSE" && message.startsWith("maxContentLength")) throw responseTooLarge(endpoint, max);
 * ```
 */
export function describeTransportFailure(error: unknown): TransportFailure {
  const found = errorCodes(error);
  return {
    code: found.find((c) => TLS_CODE.test(c)) ?? found[0] ?? "",
    message: error instanceof Error ? error.message : String(error),
  };
}

/**
 * Turns whatever an HTTP client or Node threw into a {@link CertboundError} with one of the
 * transport codes of the `HttpTransport` contract: `tls_handshake_failed` (TLS codes, a pin
 * mismatch), `timeout`, or `network_error` (a refused proxy tunnel, everything else). A
 * certbound error passes through untouched. Messages name the endpoint and say how to fix the
 * problem; the (redacted) original error stays as `cause`.
 *
 * @public
 * @example
 * ```ts
 * } catch (error) {
 *   throw attempt.failure(endpoint) ?? mapTransportError(error, { endpoint, withCertificate: !!request.clientIdentity });
 * }
 * ```
 */
export function mapTransportError(error: unknown, context: TransportErrorContext): CertboundError {
  if (isCertboundError(error)) return error;
  const { endpoint } = context;
  const cause = context.redact ? context.redact(error) : error;
  const failure = describeTransportFailure(error);
  const { code, message } = failure;
  const reason = code ? `${code}: ${message}` : message;
  if (code === PIN_MISMATCH) {
    return new CertboundError(
      "tls_handshake_failed",
      `The certificate of ${endpoint} does not match pinnedServerThumbprint. Check the thumbprint (SHA-1 or SHA-256 of the server certificate).`,
      { cause },
    );
  }
  if (TLS_CODE.test(code) || /secure TLS connection/i.test(message)) {
    return new CertboundError(
      "tls_handshake_failed",
      `The TLS handshake with ${endpoint} failed (${reason}). Check that the server certificate is trusted (pass its CA in \`ca\`) and names this host, and that the server accepts the client certificate.`,
      { cause },
    );
  }
  if (code === "ETIMEDOUT" || (code !== "" && context.timeoutCodes?.includes(code))) {
    return new CertboundError(
      "timeout",
      `The request to ${endpoint} timed out (${code}). Raise the transport's timeouts, or check that the server answers.`,
      { cause },
    );
  }
  if (code === PROXY_REFUSED) {
    return new CertboundError(
      "network_error",
      `The proxy refused the tunnel to ${endpoint} (${message}). Check the proxy URL and credentials, or add the host to NO_PROXY.`,
      { cause },
    );
  }
  const closedBeforeAnswer = context.closedBeforeAnswer ?? nodeHangUp;
  const hint =
    context.withCertificate && closedBeforeAnswer(failure)
      ? " The server closed the connection without answering: when it requires a client certificate, this is how some servers reject the one presented. Check that it trusts the client certificate's issuer."
      : "";
  return new CertboundError(
    "network_error",
    `The request to ${endpoint} failed (${reason}).${hint} Check the URL, the network path and any proxy.`,
    { cause },
  );
}

// Node's http client says "socket hang up" only when the connection closed before any response.
function nodeHangUp({ code, message }: TransportFailure): boolean {
  return code === "ECONNRESET" && /socket hang up/.test(message);
}

/** Codes on the error, its causes and (for Happy Eyeballs) its aggregated errors, outermost first. */
function errorCodes(error: unknown, depth = 0): string[] {
  if (depth > 4 || typeof error !== "object" || error === null) return [];
  const e = error as { code?: unknown; cause?: unknown; errors?: unknown };
  const own = typeof e.code === "string" ? [e.code] : [];
  const nested = Array.isArray(e.errors) ? e.errors.flatMap((inner) => errorCodes(inner, depth + 1)) : [];
  return [...own, ...nested, ...errorCodes(e.cause, depth + 1)];
}
