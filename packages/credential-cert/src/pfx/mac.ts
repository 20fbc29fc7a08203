// The PFX integrity check (RFC 7292 section 5.1): an HMAC over the AuthenticatedSafe's bytes, keyed
// with the PKCS#12 KDF. It is also the only place where a wrong passphrase shows reliably.
import { createHmac, timingSafeEqual } from "node:crypto";
import { algorithmOf, type Der, octetsOf, sequenceOf, smallIntegerOf } from "./der-reader";
import { invalidPfx, unsupportedPfx } from "./errors";
import { MAX_ITERATIONS, MAX_SALT_BYTES } from "./limits";
import { DIGEST_SIZES, DIGESTS, OID } from "./oids";
import type { PasswordForm } from "./passwords";
import { pkcs12Kdf } from "./pkcs12-kdf";
import type { PfxWorkBudget } from "./work-budget";

/** The MAC's parameters, read before any work is done. */
export interface MacParams {
  readonly hash: string;
  readonly size: number;
  readonly expected: Buffer;
  readonly salt: Buffer;
  readonly iterations: number;
  /** Work of one try (see work-budget.ts): the MAC key is one hash output, so one block. */
  readonly cost: number;
}

/** MacData ::= SEQUENCE { mac DigestInfo, macSalt OCTET STRING, iterations INTEGER DEFAULT 1 }. */
export function readMacData(macData: Der): MacParams {
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
  return { hash, size, expected, salt, iterations, cost: iterations };
}

/** Returns the password form that verifies the MAC, or `undefined` when none does. */
export function verifyMac(
  mac: MacParams,
  authSafe: Buffer,
  passwords: readonly PasswordForm[],
  budget: PfxWorkBudget,
): PasswordForm | undefined {
  const { hash, size, salt, iterations } = mac;
  for (const password of passwords) {
    budget.charge(mac.cost);
    const key = pkcs12Kdf({ hash, password: password.bmp, salt, iterations, purpose: 3, length: size });
    const actual = createHmac(hash, key).update(authSafe).digest();
    key.fill(0);
    if (timingSafeEqual(actual, mac.expected)) return password;
  }
  return undefined;
}
