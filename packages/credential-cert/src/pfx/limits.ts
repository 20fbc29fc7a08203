// Bounds on what a PFX may ask of us, so that a hostile or damaged file fails fast instead of
// holding the event loop. Real exporters stay far below them: OpenSSL uses 2,048 iterations,
// Windows 2,000, Java 10,000.
export const MAX_PFX_BYTES = 16 * 1024 * 1024;
// Per key derivation (the MAC, or one encrypted part).
export const MAX_ITERATIONS = 1_000_000;
export const MAX_SALT_BYTES = 1024;
// Per file: the sum over the MAC and every encrypted part of iterations x derived blocks (see
// work-budget.ts). The per-derivation bound alone let a file of many encrypted parts ask for hours
// of work within 16 MiB (6 parts of 1,000,000 iterations took 4 s to read). 1,000,000 is .NET's
// default total (Pkcs12LoaderLimits.TotalKdfIterationLimit), while the files exporters write need
// 6,144 (OpenSSL 3 defaults), 12,288 (openssl -legacy) or about 30,000 (Java's 10,000 iterations).
// What 1,000,000 costs depends on where it runs: PBKDF2 (PBES2) runs in node:crypto, about 0.3 s
// for HMAC-SHA256; the PKCS#12 KDF (every MAC, the legacy schemes) runs in node-forge's JavaScript
// hashes, about 1 s for SHA-1 and several for SHA-256 and SHA-512 (a MAC's choice), measured on one
// core of a busy 2-core machine.
export const DEFAULT_MAX_KDF_ITERATIONS = 1_000_000;

/**
 * How much one iteration of the PKCS#12 KDF costs in budget units, by the size of its hash's output.
 * node-forge runs that KDF in JavaScript, where SHA-384 and SHA-512 emulate 64-bit arithmetic and
 * take about four times as long as SHA-256 (measured: 1,000,000 iterations took 2.7 s with SHA-256,
 * 8.6 s with SHA-512): a MAC over SHA-512 is charged four units an iteration, so the default budget
 * blocks for about as long whatever the digest.
 */
export function pkcs12KdfWeight(digestSize: number): number {
  return digestSize > 32 ? 4 : 1;
}
