import { CertboundError } from "@certbound/core";
import { PIN_MISMATCH } from "./server-pin";
import { PROXY_REFUSED } from "./tunnel";

// OpenSSL verification results, Node's TLS errors and ours. A TLS failure gets its own code because
// a managed identity reacts to it by minting a new certificate.
const TLS_CODE =
  /^(ERR_SSL_|ERR_TLS_|ERR_OSSL_|UNABLE_TO_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE|ERR_CERTBOUND_PIN)/;
const TIMEOUT_CODE = /^(UND_ERR_CONNECT_TIMEOUT|UND_ERR_HEADERS_TIMEOUT|UND_ERR_BODY_TIMEOUT|ETIMEDOUT)$/;
const CLOSED_CODE = /^(UND_ERR_SOCKET|ECONNRESET|EPIPE)$/;

/** Where the request was when it failed. */
export interface FailureContext {
  readonly endpoint: string;
  /** A client certificate was presented. */
  readonly withCertificate: boolean;
  /** Response headers had arrived. */
  readonly answered: boolean;
}

/**
 * Turns whatever undici or Node threw into a {@link CertboundError} with one of the transport
 * codes. The original error stays as `cause` (undici and Node errors carry addresses and codes,
 * never request headers or bodies).
 */
export function mapError(error: unknown, context: FailureContext): CertboundError {
  if (error instanceof CertboundError) return error;
  const { endpoint } = context;
  const found = errorCodes(error);
  const code = found.find((c) => TLS_CODE.test(c)) ?? found[0] ?? "";
  const reason = code ? `${code}: ${messageOf(error)}` : messageOf(error);
  if (code === PIN_MISMATCH) {
    return new CertboundError(
      "tls_handshake_failed",
      `The certificate of ${endpoint} does not match pinnedServerThumbprint. Check the thumbprint (SHA-1 or SHA-256 of the server certificate).`,
      { cause: error },
    );
  }
  if (TLS_CODE.test(code) || /secure TLS connection/i.test(messageOf(error))) {
    return new CertboundError(
      "tls_handshake_failed",
      `The TLS handshake with ${endpoint} failed (${reason}). Check that the server certificate is trusted (pass its CA in \`ca\`) and names this host, and that the server accepts the client certificate.`,
      { cause: error },
    );
  }
  if (TIMEOUT_CODE.test(code)) {
    return new CertboundError(
      "timeout",
      `The request to ${endpoint} timed out (${code}). Raise the transport's timeouts, or check that the server answers.`,
      { cause: error },
    );
  }
  if (code === PROXY_REFUSED) {
    return new CertboundError(
      "network_error",
      `The proxy refused the tunnel to ${endpoint} (${messageOf(error)}). Check the proxy URL and credentials, or add the host to NO_PROXY.`,
      { cause: error },
    );
  }
  const hint =
    context.withCertificate && !context.answered && CLOSED_CODE.test(code)
      ? " The server closed the connection without answering: when it requires a client certificate, this is how some servers reject the one presented. Check that it trusts the client certificate's issuer."
      : "";
  return new CertboundError(
    "network_error",
    `The request to ${endpoint} failed (${reason}).${hint} Check the URL, the network path and any proxy.`,
    { cause: error },
  );
}

/** Codes on the error, its causes and (for Happy Eyeballs) its aggregated errors, outermost first. */
function errorCodes(error: unknown, depth = 0): string[] {
  if (depth > 4 || typeof error !== "object" || error === null) return [];
  const e = error as { code?: unknown; cause?: unknown; errors?: unknown };
  const own = typeof e.code === "string" ? [e.code] : [];
  const nested = Array.isArray(e.errors) ? e.errors.flatMap((inner) => errorCodes(inner, depth + 1)) : [];
  return [...own, ...nested, ...errorCodes(e.cause, depth + 1)];
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
