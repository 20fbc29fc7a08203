import type { TLSSocket } from "node:tls";

/** Error code of a server certificate that does not match `pinnedServerThumbprint`. */
export const PIN_MISMATCH = "ERR_CERTBOUND_PIN_MISMATCH";

/**
 * Normalises a thumbprint (hex, colons and case ignored) to lower-case hex; `undefined` when it is
 * neither 40 digits (SHA-1) nor 64 (SHA-256).
 */
export function normalisePin(pin: string): string | undefined {
  const hex = pin.replaceAll(":", "").trim().toLowerCase();
  return /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(hex) ? hex : undefined;
}

/** Whether the certificate the server presented on `socket` has the pinned thumbprint. */
export function matchesPin(socket: TLSSocket, pin: string): boolean {
  const certificate = socket.getPeerX509Certificate();
  if (!certificate) return false;
  const actual = pin.length === 40 ? certificate.fingerprint : certificate.fingerprint256;
  return actual.replaceAll(":", "").toLowerCase() === pin;
}

/** The error a pinned connection fails with. */
export function pinMismatch(): Error {
  return Object.assign(new Error("The server certificate does not match pinnedServerThumbprint"), {
    code: PIN_MISMATCH,
  });
}
