import { CertboundError } from "@certbound/core";
import { isAxiosError } from "axios";
import { PIN_MISMATCH } from "./server-pin";
import { PROXY_REFUSED } from "./tunnel";

// OpenSSL verification results, Node's TLS errors and ours. A TLS failure gets its own code because
// a managed identity reacts to it by minting a new certificate.
const TLS_CODE =
  /^(ERR_SSL_|ERR_TLS_|ERR_OSSL_|UNABLE_TO_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE|ERR_CERTBOUND_PIN)/;
// ECONNABORTED is axios' own code for its `timeout`.
const TIMEOUT_CODE = /^(ETIMEDOUT|ECONNABORTED)$/;

/** Where the request was when it failed. */
export interface FailureContext {
  readonly endpoint: string;
  /** A client certificate was presented. */
  readonly withCertificate: boolean;
  readonly maxResponseBytes: number;
}

/**
 * Turns what axios (or Node under it) threw into a {@link CertboundError} with one of the transport
 * codes. An AxiosError is never attached: it carries the request config, headers included
 * (`Authorization`), and the request object. Only the Node error underneath, or a bare copy of the
 * message and code, becomes the `cause`.
 */
export function mapError(error: unknown, context: FailureContext): CertboundError {
  if (error instanceof CertboundError) return error;
  const { endpoint } = context;
  const cause = redact(error);
  const found = errorCodes(error);
  const code = found.find((c) => TLS_CODE.test(c)) ?? found[0] ?? "";
  const message = messageOf(error);
  const reason = code ? `${code}: ${message}` : message;
  if (code === "ERR_BAD_RESPONSE" && message.startsWith("maxContentLength")) {
    return new CertboundError(
      "response_too_large",
      `The response from ${endpoint} is larger than maxResponseBytes (${context.maxResponseBytes} bytes). Raise maxResponseBytes if such responses are expected.`,
      { cause },
    );
  }
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
  if (TIMEOUT_CODE.test(code)) {
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
  // Node says "socket hang up" only when the connection closed before any response arrived.
  const hint =
    context.withCertificate && code === "ECONNRESET" && /socket hang up/.test(message)
      ? " The server closed the connection without answering: when it requires a client certificate, this is how some servers reject the one presented. Check that it trusts the client certificate's issuer."
      : "";
  return new CertboundError(
    "network_error",
    `The request to ${endpoint} failed (${reason}).${hint} Check the URL, the network path and any proxy.`,
    { cause },
  );
}

/** The Node error under an AxiosError, or a copy of its message and code: never its config or request. */
function redact(error: unknown): unknown {
  if (!isAxiosError(error)) return error;
  if (error.cause instanceof Error && !isAxiosError(error.cause)) return error.cause;
  return Object.assign(new Error(error.message), { code: error.code });
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
