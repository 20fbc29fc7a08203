// The PKCS#12 key derivation function (RFC 7292, appendix B.2). It derives the MAC key of every
// PFX and the keys and IVs of the pbeWithSHAAnd... encryption schemes. node:crypto has no binding
// for it, so it is built here from node:crypto hashes.
import { createHash } from "node:crypto";
import { invalidPfx } from "./errors";

/** Hashes the KDF is defined for: output size `u` and block size `v`, in bytes. */
const HASHES: Readonly<Record<string, { u: number; v: number }>> = {
  sha1: { u: 20, v: 64 },
  sha224: { u: 28, v: 64 },
  sha256: { u: 32, v: 64 },
  sha384: { u: 48, v: 128 },
  sha512: { u: 64, v: 128 },
  "sha512-224": { u: 28, v: 128 },
  "sha512-256": { u: 32, v: 128 },
};

/** What is derived: 1 an encryption key, 2 an IV, 3 a MAC key. */
export type Pkcs12KdfPurpose = 1 | 2 | 3;

export interface Pkcs12KdfInput {
  /** A node:crypto hash name among sha1, sha224, sha256, sha384, sha512, sha512-224, sha512-256. */
  readonly hash: string;
  /** The password as the PKCS#12 KDF takes it: UTF-16BE with a two-byte terminator (see passwords.ts). */
  readonly password: Uint8Array;
  readonly salt: Uint8Array;
  readonly iterations: number;
  readonly purpose: Pkcs12KdfPurpose;
  /** Bytes to derive. */
  readonly length: number;
}

export function isPkcs12KdfHash(hash: string): boolean {
  return Object.hasOwn(HASHES, hash);
}

// `data` repeated to fill a whole number of v-byte blocks (nothing when it is empty).
function stretch(data: Uint8Array, v: number): Buffer {
  const out = Buffer.alloc(Math.ceil(data.length / v) * v);
  for (let i = 0; i < out.length; i++) out[i] = data[i % data.length] as number;
  return out;
}

/** Derives `length` bytes. Callers bound `iterations` and `length`. */
export function pkcs12Kdf(input: Pkcs12KdfInput): Buffer {
  const sizes = HASHES[input.hash];
  if (!sizes) throw invalidPfx(`a key derivation with the unsupported hash ${input.hash}`);
  const { u, v } = sizes;
  const diversifier = Buffer.alloc(v, input.purpose);
  // I = S || P, each stretched to whole blocks.
  const block = Buffer.concat([stretch(input.salt, v), stretch(input.password, v)]);
  const out = Buffer.alloc(input.length);
  const rounds = Math.ceil(input.length / u);
  for (let round = 0; round < rounds; round++) {
    let a = createHash(input.hash).update(diversifier).update(block).digest();
    for (let i = 1; i < input.iterations; i++) a = createHash(input.hash).update(a).digest();
    a.copy(out, round * u, 0, Math.min(u, input.length - round * u));
    if (round + 1 === rounds) break;
    // Each v-byte block I_j of I becomes (I_j + B + 1) mod 2^(8v), B being A repeated to v bytes.
    const b = stretch(a, v);
    for (let j = 0; j < block.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = (block[j + k] as number) + (b[k] as number) + carry;
        block[j + k] = sum & 0xff;
        carry = sum >>> 8;
      }
    }
  }
  block.fill(0);
  return out;
}
