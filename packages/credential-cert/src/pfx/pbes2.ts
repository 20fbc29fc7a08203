// PBES2 (RFC 8018 section 6.2): PBKDF2 for the key, then a CBC cipher. What OpenSSL 3, current
// Windows and Java write by default (PBKDF2-HMAC-SHA256 with AES-256-CBC).
import { pbkdf2Sync } from "node:crypto";
import { assertBlocks, nodeCbcDecrypt } from "./cbc";
import { algorithmOf, type Der, octetsOf, sequenceOf, smallIntegerOf, TAG, UNIVERSAL } from "./der-reader";
import { invalidPfx, unsupportedPfx } from "./errors";
import { MAX_ITERATIONS, MAX_SALT_BYTES } from "./limits";
import { DIGEST_SIZES, OID, PRFS } from "./oids";
import type { PfxWorkBudget } from "./work-budget";

interface Cipher {
  readonly name: string;
  readonly keyLength: number;
  readonly blockSize: number;
}

const CIPHERS: Readonly<Record<string, Cipher>> = {
  "2.16.840.1.101.3.4.1.2": { name: "aes-128-cbc", keyLength: 16, blockSize: 16 },
  "2.16.840.1.101.3.4.1.22": { name: "aes-192-cbc", keyLength: 24, blockSize: 16 },
  "2.16.840.1.101.3.4.1.42": { name: "aes-256-cbc", keyLength: 32, blockSize: 16 },
  "1.2.840.113549.3.7": { name: "des-ede3-cbc", keyLength: 24, blockSize: 8 },
};

interface Pbkdf2Params {
  readonly salt: Buffer;
  readonly iterations: number;
  readonly keyLength: number | undefined;
  readonly prf: string;
}

// PBKDF2-params ::= SEQUENCE { salt CHOICE { specified OCTET STRING, otherSource AlgorithmIdentifier },
//   iterationCount INTEGER, keyLength INTEGER OPTIONAL, prf AlgorithmIdentifier DEFAULT hmacWithSHA1 }
function readPbkdf2Params(params: Der | undefined, what: string): Pbkdf2Params {
  const [saltNode, iterationsNode, ...rest] = sequenceOf(params, `${what}'s PBKDF2 parameters`, 2);
  if (saltNode?.tagClass === UNIVERSAL && saltNode.tag === TAG.sequence)
    throw unsupportedPfx("a PBKDF2 salt from another source");
  const salt = octetsOf(saltNode, `${what}'s salt`);
  if (salt.length > MAX_SALT_BYTES) throw invalidPfx(`${what} has an oversized salt`);
  const iterations = smallIntegerOf(iterationsNode, `${what}'s iteration count`);
  if (iterations < 1 || iterations > MAX_ITERATIONS) {
    throw invalidPfx(`${what} asks for ${iterations} iterations (1 to ${MAX_ITERATIONS} are accepted)`);
  }
  let keyLength: number | undefined;
  let prf = "sha1";
  let next = rest.shift();
  if (next && next.tagClass === UNIVERSAL && next.tag === TAG.integer) {
    keyLength = smallIntegerOf(next, `${what}'s key length`);
    next = rest.shift();
  }
  if (next) {
    const { oid } = algorithmOf(next, `${what}'s PRF`);
    const hash = PRFS[oid];
    if (!hash) throw unsupportedPfx(`the PBKDF2 PRF ${oid}`);
    prf = hash;
  }
  if (rest.length > 0) throw invalidPfx(`${what}'s PBKDF2 parameters have extra fields`);
  return { salt, iterations, keyLength, prf };
}

interface Pbes2Params extends Pbkdf2Params {
  readonly cipher: Cipher;
  readonly iv: Buffer;
  /** Work of one try (see work-budget.ts): PBKDF2 runs its chain once per PRF-sized block of the key. */
  readonly cost: number;
}

// PBES2-params ::= SEQUENCE { keyDerivationFunc AlgorithmIdentifier, encryptionScheme AlgorithmIdentifier }
function readPbes2Params(params: Der | undefined, what: string): Pbes2Params {
  const [kdfNode, schemeNode] = sequenceOf(params, `${what}'s PBES2 parameters`, 2);
  const kdf = algorithmOf(kdfNode, `${what}'s key derivation`);
  if (kdf.oid !== OID.pbkdf2) throw unsupportedPfx(`the PBES2 key derivation ${kdf.oid}`);
  const pbkdf2 = readPbkdf2Params(kdf.params, what);
  const scheme = algorithmOf(schemeNode, `${what}'s cipher`);
  const cipher = CIPHERS[scheme.oid];
  if (!cipher) throw unsupportedPfx(`the PBES2 cipher ${scheme.oid}`);
  if (pbkdf2.keyLength !== undefined && pbkdf2.keyLength !== cipher.keyLength) {
    throw invalidPfx(`${what}'s key length does not fit its cipher`);
  }
  const iv = octetsOf(scheme.params, `${what}'s IV`);
  if (iv.length !== cipher.blockSize) throw invalidPfx(`${what}'s IV has the wrong size`);
  const blocks = Math.ceil(cipher.keyLength / (DIGEST_SIZES[pbkdf2.prf] ?? 20));
  return { ...pbkdf2, cipher, iv, cost: pbkdf2.iterations * blocks };
}

/** The work one PBES2 decryption costs (see work-budget.ts), read from its parameters alone. */
export function pbes2Cost(params: Der | undefined, what: string): number {
  return readPbes2Params(params, what).cost;
}

/** Decrypts with PBES2; `undefined` when the password is wrong (bad padding). */
export function pbes2Decrypt(
  params: Der | undefined,
  encrypted: Buffer,
  utf8Password: Buffer,
  what: string,
  budget: PfxWorkBudget,
): Buffer | undefined {
  const { salt, iterations, prf, cipher, iv, cost } = readPbes2Params(params, what);
  assertBlocks(encrypted, cipher.blockSize, what);
  budget.charge(cost);
  const key = pbkdf2Sync(utf8Password, salt, iterations, cipher.keyLength, prf);
  return nodeCbcDecrypt(cipher.name, key, iv, encrypted);
}
