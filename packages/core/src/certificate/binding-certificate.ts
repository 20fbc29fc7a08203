import type { KeyObject, X509Certificate } from "node:crypto";
import { CertboundError } from "../protocol/errors";
import type { BindingCertificate } from "../seams/result";
import { certificateNotAfter, certificateNotBefore, parsePemChain, toPem } from "./pem";
import { x5tS256 } from "./x5t";

/**
 * Options of {@link createBindingCertificate}.
 *
 * @public
 */
export interface BindingCertificateInput {
  /** Leaf first, then intermediates: PEM text or parsed certificates. */
  certificate: string | readonly X509Certificate[];
  privateKey: KeyObject;
  /** When given, an expired or not-yet-valid certificate is refused. */
  now?: number | undefined;
}

/**
 * Checks that the key matches the leaf certificate (and, with `now`, that the certificate is valid)
 * and returns the identity to present in TLS and to bind tokens to.
 * Errors: `invalid_certificate`, `cert_without_private_key`, `certificate_expired`,
 * `certificate_not_yet_valid`.
 *
 * @public
 * @example
 * ```ts
 * const binding = createBindingCertificate({ certificate: pem, privateKey: loadPrivateKey(keyPem), now: Date.now() });
 * ```
 */
export function createBindingCertificate(input: BindingCertificateInput): BindingCertificate {
  const chain = typeof input.certificate === "string" ? parsePemChain(input.certificate) : input.certificate;
  const leaf = chain[0];
  if (!leaf) throw new CertboundError("invalid_certificate", "The certificate chain is empty.");
  if (input.privateKey?.type !== "private") {
    throw new CertboundError(
      "cert_without_private_key",
      "The certificate has no private key. mTLS needs the key of the certificate: pass it with the certificate.",
    );
  }
  if (!leaf.checkPrivateKey(input.privateKey)) {
    throw new CertboundError(
      "cert_without_private_key",
      `The private key does not belong to the certificate "${leaf.subject.replace(/\n/g, ", ")}". Pass the key that was generated with this certificate.`,
    );
  }
  const notAfter = certificateNotAfter(leaf);
  if (input.now !== undefined) {
    if (notAfter.getTime() <= input.now) {
      throw new CertboundError(
        "certificate_expired",
        `The certificate expired on ${notAfter.toISOString()}. Renew it and register the new one.`,
      );
    }
    const notBefore = certificateNotBefore(leaf);
    if (notBefore.getTime() > input.now) {
      throw new CertboundError(
        "certificate_not_yet_valid",
        `The certificate is valid only from ${notBefore.toISOString()}. Check the system clock or the certificate.`,
      );
    }
  }
  return Object.freeze({
    certificatePem: toPem(chain),
    privateKey: input.privateKey,
    x5tS256: x5tS256(leaf.raw),
    notAfter: new ReadonlyDate(notAfter.getTime()),
  });
}

/**
 * A `Date` whose setters throw. A binding certificate is shared by every result of its cached
 * tokens (and, in a credential, by its own TLS calls): `Object.freeze` cannot stop `setTime` on a
 * Date's internal value, so its `notAfter` is one of these.
 */
class ReadonlyDate extends Date {}
for (const name of Object.getOwnPropertyNames(Date.prototype)) {
  if (!name.startsWith("set")) continue;
  Object.defineProperty(ReadonlyDate.prototype, name, {
    value: function readonlyDate(): never {
      throw new TypeError(
        `A binding certificate's notAfter is shared by every result for its token and cannot be changed (${name}); copy it first: new Date(notAfter).`,
      );
    },
  });
}

/**
 * A binding certificate that no caller can change: the one given when it already is (as every
 * {@link createBindingCertificate} result is), else a frozen copy with a read-only `notAfter`.
 * The token manager stores only such certificates, so changing a `TokenResult` cannot change the
 * cache, later hits, or the credential's own certificate.
 *
 * @internal
 * @example
 * ```ts
 * const shared = freezeBindingCertificate(token.bindingCertificate);
 * ```
 */
export function freezeBindingCertificate(binding: BindingCertificate): BindingCertificate {
  if (Object.isFrozen(binding) && binding.notAfter instanceof ReadonlyDate) return binding;
  const { notAfter } = binding;
  return Object.freeze({
    ...binding,
    notAfter: notAfter instanceof Date ? new ReadonlyDate(notAfter.getTime()) : notAfter,
  });
}
