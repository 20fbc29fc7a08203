import type { KeyObject } from "node:crypto";

/**
 * A certificate with its private key as PEM text (or the bytes of a PEM file): the chain leaf first,
 * the key as PKCS#1, SEC1, PKCS#8 or encrypted PKCS#8. When `privateKeyPem` is left out, the key
 * is looked for in `certificatePem` (a combined PEM file).
 * @public
 */
export interface PemCertificateInput {
  readonly certificatePem: string | Uint8Array;
  readonly privateKeyPem?: string | Uint8Array | undefined;
  /** Decrypts an encrypted private key. */
  readonly passphrase?: string | undefined;
}

/**
 * A PKCS#12 file (.pfx / .p12) as bytes, or as base64 text (what Key Vault hands out).
 *
 * @public
 */
export interface PfxCertificateInput {
  readonly pfx: Uint8Array | string;
  readonly passphrase?: string | undefined;
  /**
   * The most key-derivation work the file may ask for (see `readPfx`); a file that asks for more
   * fails with `invalid_certificate` before the work is done. Raise it only for a file you trust.
   * @default 1000000
   */
  readonly maxKdfIterations?: number | undefined;
}

/**
 * A PEM certificate chain with a private key already loaded (e.g. from an HSM-backed provider).
 *
 * @public
 */
export interface KeyObjectCertificateInput {
  readonly certificatePem: string | Uint8Array;
  readonly privateKey: KeyObject;
}

/**
 * Every form a certificate can be given in.
 *
 * @public
 */
export type CertificateInput = PemCertificateInput | PfxCertificateInput | KeyObjectCertificateInput;

/**
 * Returns the current certificate. Called before network acquisitions (and, for PoP, on each call,
 * since the certificate is part of the cache key), so a rotated certificate is picked up without a
 * restart. The parsed result is reused while the provider returns the same object or the same bytes.
 * @public
 */
export type CertificateProvider = () => CertificateInput | Promise<CertificateInput>;
