import { createHash } from "node:crypto";

/**
 * `x5t#S256` of a certificate: base64url (no padding) of SHA-256 over its DER bytes. This is the
 * value Entra puts in a PoP token's `cnf` claim and the id transports pool connections by.
 *
 * @public
 * @example
 * ```ts
 * const thumbprint = x5tS256(new X509Certificate(pem).raw);
 * ```
 */
export function x5tS256(der: Uint8Array): string {
  return createHash("sha256").update(der).digest("base64url");
}
