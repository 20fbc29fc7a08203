// The password-based encryption schemes of PKCS#12 itself (RFC 7292 appendix C): key and IV come
// from the PKCS#12 KDF with SHA-1. Legacy, but still what `openssl pkcs12 -legacy`, older Windows
// and older Java write.
import { assertBlocks, nodeCbcDecrypt, removePadding } from "./cbc";
import { type Der, octetsOf, sequenceOf, smallIntegerOf } from "./der-reader";
import { invalidPfx } from "./errors";
import { MAX_ITERATIONS, MAX_SALT_BYTES } from "./limits";
import { pkcs12Kdf } from "./pkcs12-kdf";
import { rc2CbcDecrypt } from "./rc2";
import type { PfxWorkBudget } from "./work-budget";

interface Scheme {
  readonly keyLength: number;
  /** A node:crypto cipher, or RC2 (ours) with these effective key bits. */
  readonly cipher: string | { readonly rc2Bits: number };
}

const SCHEMES: Readonly<Record<string, Scheme>> = {
  // pbeWithSHAAnd3-KeyTripleDES-CBC
  "1.2.840.113549.1.12.1.3": { keyLength: 24, cipher: "des-ede3-cbc" },
  // pbeWithSHAAnd2-KeyTripleDES-CBC
  "1.2.840.113549.1.12.1.4": { keyLength: 16, cipher: "des-ede-cbc" },
  // pbeWithSHAAnd128BitRC2-CBC
  "1.2.840.113549.1.12.1.5": { keyLength: 16, cipher: { rc2Bits: 128 } },
  // pbeWithSHAAnd40BitRC2-CBC
  "1.2.840.113549.1.12.1.6": { keyLength: 5, cipher: { rc2Bits: 40 } },
};

/** pbeWithSHAAnd128BitRC4 and pbeWithSHAAnd40BitRC4: stream ciphers no current exporter writes. */
export const PKCS12_RC4_OIDS: readonly string[] = ["1.2.840.113549.1.12.1.1", "1.2.840.113549.1.12.1.2"];

export function isPkcs12Pbe(oid: string): boolean {
  return Object.hasOwn(SCHEMES, oid);
}

/** pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER } */
export function readPkcs12PbeParams(
  params: Der | undefined,
  what: string,
): { salt: Buffer; iterations: number } {
  const [saltNode, iterationsNode] = sequenceOf(params, `${what}'s parameters`, 2);
  const salt = octetsOf(saltNode, `${what}'s salt`);
  const iterations = smallIntegerOf(iterationsNode, `${what}'s iteration count`);
  if (salt.length > MAX_SALT_BYTES) throw invalidPfx(`${what} has an oversized salt`);
  if (iterations < 1 || iterations > MAX_ITERATIONS) {
    throw invalidPfx(`${what} asks for ${iterations} iterations (1 to ${MAX_ITERATIONS} are accepted)`);
  }
  return { salt, iterations };
}

// The KDF's SHA-1 gives 20 bytes a run: one run per 20 bytes of key, one for the 8-byte IV.
const SHA1_SIZE = 20;
const costOf = (scheme: Scheme, iterations: number) =>
  iterations * (Math.ceil(scheme.keyLength / SHA1_SIZE) + 1);

/** The work one decryption with a PKCS#12 PBE scheme costs (see work-budget.ts). */
export function pkcs12PbeCost(oid: string, params: Der | undefined, what: string): number {
  const scheme = SCHEMES[oid];
  if (!scheme) throw invalidPfx(`${what} uses an unknown PKCS#12 scheme`);
  return costOf(scheme, readPkcs12PbeParams(params, what).iterations);
}

/** Decrypts with a PKCS#12 PBE scheme; `undefined` when the password is wrong (bad padding). */
export function pkcs12PbeDecrypt(
  oid: string,
  params: Der | undefined,
  encrypted: Buffer,
  bmpPassword: Buffer,
  what: string,
  budget: PfxWorkBudget,
): Buffer | undefined {
  const scheme = SCHEMES[oid];
  if (!scheme) throw invalidPfx(`${what} uses an unknown PKCS#12 scheme`);
  const { salt, iterations } = readPkcs12PbeParams(params, what);
  assertBlocks(encrypted, 8, what);
  budget.charge(costOf(scheme, iterations));
  const derive = (purpose: 1 | 2, length: number) =>
    pkcs12Kdf({ hash: "sha1", password: bmpPassword, salt, iterations, purpose, length });
  const key = derive(1, scheme.keyLength);
  const iv = derive(2, 8);
  if (typeof scheme.cipher === "string") return nodeCbcDecrypt(scheme.cipher, key, iv, encrypted);
  const padded = rc2CbcDecrypt(key, scheme.cipher.rc2Bits, iv, encrypted);
  key.fill(0);
  const plain = removePadding(padded, 8);
  if (!plain) padded.fill(0);
  return plain;
}
