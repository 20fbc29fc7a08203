// The PFX integrity check (RFC 7292 section 5.1): an HMAC over the AuthenticatedSafe's bytes, keyed
// with the PKCS#12 KDF. It is also the only place where a wrong passphrase shows reliably.
import { createHmac, timingSafeEqual } from "node:crypto";
import { algorithmOf, type Der, octetsOf, sequenceOf, smallIntegerOf } from "./der-reader";
import { invalidPfx, unsupportedPfx } from "./errors";
import { MAX_ITERATIONS, MAX_SALT_BYTES } from "./limits";
import { DIGESTS, OID } from "./oids";
import type { PasswordForm } from "./passwords";
import { pkcs12Kdf } from "./pkcs12-kdf";

const DIGEST_SIZES: Readonly<Record<string, number>> = {
  sha1: 20,
  sha224: 28,
  sha256: 32,
  sha384: 48,
  sha512: 64,
  "sha512-224": 28,
  "sha512-256": 32,
};

/**
 * MacData ::= SEQUENCE { mac DigestInfo, macSalt OCTET STRING, iterations INTEGER DEFAULT 1 }.
 * Returns the password form that verifies the MAC, or `undefined` when none does.
 */
export function verifyMac(
  macData: Der,
  authSafe: Buffer,
  passwords: readonly PasswordForm[],
): PasswordForm | undefined {
  const [digestInfo, saltNode, iterationsNode, ...extra] = sequenceOf(macData, "the MAC data", 2);
  if (extra.length > 0) throw invalidPfx("the MAC data has extra fields");
  const [algorithm, digestNode] = sequenceOf(digestInfo, "the MAC", 2);
  const { oid } = algorithmOf(algorithm, "the MAC digest");
  if (oid === OID.pbmac1) throw unsupportedPfx("a PBMAC1 integrity check (RFC 9579)");
  const hash = DIGESTS[oid];
  const size = hash === undefined ? undefined : DIGEST_SIZES[hash];
  if (hash === undefined || size === undefined) throw unsupportedPfx(`the MAC digest ${oid}`);
  const expected = octetsOf(digestNode, "the MAC value");
  if (expected.length !== size) throw invalidPfx("the MAC value has the wrong size");
  const salt = octetsOf(saltNode, "the MAC salt");
  if (salt.length > MAX_SALT_BYTES) throw invalidPfx("the MAC salt is oversized");
  const iterations = iterationsNode ? smallIntegerOf(iterationsNode, "the MAC iteration count") : 1;
  if (iterations < 1 || iterations > MAX_ITERATIONS) {
    throw invalidPfx(`the MAC asks for ${iterations} iterations (1 to ${MAX_ITERATIONS} are accepted)`);
  }
  for (const password of passwords) {
    const key = pkcs12Kdf({ hash, password: password.bmp, salt, iterations, purpose: 3, length: size });
    const actual = createHmac(hash, key).update(authSafe).digest();
    key.fill(0);
    if (timingSafeEqual(actual, expected)) return password;
  }
  return undefined;
}
