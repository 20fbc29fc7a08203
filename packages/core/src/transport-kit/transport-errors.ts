import { CertboundError } from "../protocol/errors";

/**
 * The `network_error` a transport throws when it is used after `close()`.
 *
 * @public
 * @example
 * ```ts
 * if (closed) throw transportClosed("@my-scope/my-transport");
 * ```
 */
export function transportClosed(packageName: string): CertboundError {
  return new CertboundError("network_error", `${packageName}: the transport is closed. Create a new one.`);
}

/**
 * The `tls_handshake_failed` error for a client certificate, key or CA that Node refused while
 * building a TLS context ({@link poolSecureContext} throws it): no handshake could succeed with it.
 * Node's error becomes the `cause` (it names the problem, never the key).
 *
 * @public
 * @example
 * ```ts
 * try {
 *   secureContext = secureContextFor(identity, cas);
 * } catch (cause) {
 *   throw unusableTlsMaterial("@my-scope/my-transport", cause);
 * }
 * ```
 */
export function unusableTlsMaterial(packageName: string, cause: unknown): CertboundError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new CertboundError(
    "tls_handshake_failed",
    `${packageName}: the client certificate, its key or a CA certificate cannot be used for TLS (${reason}). Check that the key belongs to the certificate and that every PEM is complete.`,
    { cause },
  );
}

/**
 * The `response_too_large` error for a body beyond `maxBytes`. Pass a `cause` only when it is
 * free of request headers (redact client errors first).
 *
 * @public
 * @example
 * ```ts
 * if (total > maxBytes) throw responseTooLarge(endpoint, maxBytes);
 * ```
 */
export function responseTooLarge(endpoint: string, maxBytes: number, cause?: unknown): CertboundError {
  return new CertboundError(
    "response_too_large",
    `The response from ${endpoint} is larger than maxResponseBytes (${maxBytes} bytes). Raise maxResponseBytes if such responses are expected.`,
    cause === undefined ? {} : { cause },
  );
}
