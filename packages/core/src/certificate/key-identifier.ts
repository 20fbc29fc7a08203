import { createHash, type KeyObject } from "node:crypto";

/**
 * The key identifier of a public key, RFC 5280 section 4.2.1.2 method (1): SHA-1 over the bits of
 * `subjectPublicKey` (the BIT STRING's value, without its tag, length and unused-bits byte).
 * It goes into subjectKeyIdentifier, and into authorityKeyIdentifier of the certificates the key signs.
 *
 * @internal
 * @example
 * ```ts
 * const ski = keyIdentifier(ca.certificate.publicKey); // 20 bytes
 * ```
 */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: "spki", format: "der" });
  const outer = header(spki, 0); // SubjectPublicKeyInfo SEQUENCE
  const algorithm = header(spki, outer.start); // AlgorithmIdentifier SEQUENCE
  const bits = header(spki, algorithm.end); // subjectPublicKey BIT STRING
  if (bits.tag !== 0x03) throw new Error("SubjectPublicKeyInfo without a BIT STRING");
  return createHash("sha1")
    .update(spki.subarray(bits.start + 1, bits.end))
    .digest();
}

// Reads a DER tag and length at `offset`; returns where the content starts and ends.
function header(der: Buffer, offset: number): { tag: number; start: number; end: number } {
  const tag = der[offset] as number;
  const first = der[offset + 1] as number;
  if (first < 0x80) return { tag, start: offset + 2, end: offset + 2 + first };
  const count = first & 0x7f;
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + (der[offset + 2 + i] as number);
  const start = offset + 2 + count;
  return { tag, start, end: start + length };
}
