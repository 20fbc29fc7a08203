import type { TLSSocket } from "node:tls";
import { CertboundError } from "../protocol/errors";

/**
 * Error code of a server certificate that does not match `pinnedServerThumbprint`.
 * {@link mapTransportError} turns it into `tls_handshake_failed`.
 *
 * @public
 * @example
 * ```ts
 * callback(Object.assign(new Error("pin mismatch"), { code: PIN_MISMATCH }), socket);
 * ```
 */
export const PIN_MISMATCH = "ERR_CERTBOUND_PIN_MISMATCH";

/**
 * Normalises a thumbprint (hex, colons and case ignored) to lower-case hex; `undefined` when it is
 * neither 40 digits (SHA-1) nor 64 (SHA-256).
 *
 * @public
 * @example
 * ```ts
 * normalizePin("AB:CD:...:EF"); // "abcd...ef"
 * normalizePin("abc"); // undefined
 * ```
 */
export function normalizePin(pin: string): string | undefined {
  const hex = pin.replaceAll(":", "").trim().toLowerCase();
  return /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(hex) ? hex : undefined;
}

/**
 * The normalised pin of a request (`undefined` when it has none). A malformed thumbprint fails
 * with `tls_handshake_failed` before any connection is made, naming the expected form.
 *
 * @public
 * @example
 * ```ts
 * const pin = parsePinnedThumbprint(request.pinnedServerThumbprint, endpointOf(request.url));
 * ```
 */
export function parsePinnedThumbprint(thumbprint: string | undefined, endpoint: string): string | undefined {
  if (thumbprint === undefined) return undefined;
  const pin = normalizePin(thumbprint);
  if (pin === undefined) {
    throw new CertboundError(
      "tls_handshake_failed",
      `pinnedServerThumbprint for ${endpoint} is not a certificate thumbprint: expected 40 (SHA-1) or 64 (SHA-256) hex digits.`,
    );
  }
  return pin;
}

/**
 * Whether the certificate the server presented on `socket` has the pinned thumbprint (as
 * returned by {@link normalizePin}). Check it on `secureConnect`, before writing the request.
 *
 * @public
 * @example
 * ```ts
 * socket.once("secureConnect", () => (matchesPin(socket, pin) ? ready(socket) : fail(pinMismatch())));
 * ```
 */
export function matchesPin(socket: TLSSocket, pin: string): boolean {
  const certificate = socket.getPeerX509Certificate();
  if (!certificate) return false;
  const actual = pin.length === 40 ? certificate.fingerprint : certificate.fingerprint256;
  return actual.replaceAll(":", "").toLowerCase() === pin;
}

/**
 * The error a pinned connection fails with (code {@link PIN_MISMATCH}).
 *
 * @public
 * @example
 * ```ts
 * socket.destroy();
 * callback(pinMismatch(), null);
 * ```
 */
export function pinMismatch(): Error {
  return Object.assign(new Error("The server certificate does not match pinnedServerThumbprint"), {
    code: PIN_MISMATCH,
  });
}
