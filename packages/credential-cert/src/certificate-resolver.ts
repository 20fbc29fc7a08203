import { KeyObject } from "node:crypto";
import { CertboundError, isCertboundError } from "@certbound/core";
import type { CertificateInput, CertificateProvider } from "./certificate-input";
import { assertValidityWindow, type LoadedCertificate, loadCertificate } from "./load-certificate";
import { PACKAGE } from "./package-name";

/** Hands out the current certificate, parsed once per distinct value. */
export interface CertificateResolver {
  /**
   * The current certificate, checked against `now`. `pop` only picks the error code when a
   * provider returns nothing (`mtls_certificate_not_provided` for PoP).
   */
  current(now: number, pop: boolean): Promise<LoadedCertificate>;
  /**
   * For a fixed certificate (not a provider): the same certificate and checks as `current`, but
   * synchronously, so a cache hit does not wait a turn for it. `undefined` for a provider, whose
   * answer may change on every call and must be asked for.
   */
  readonly currentSync: ((now: number) => LoadedCertificate) | undefined;
}

// The validity bounds as numbers, read once when the certificate is parsed.
interface Checked {
  readonly loaded: LoadedCertificate;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

function checked(loaded: LoadedCertificate): Checked {
  return { loaded, notBeforeMs: loaded.notBefore.getTime(), notAfterMs: loaded.binding.notAfter.getTime() };
}

function validAt(c: Checked, now: number): LoadedCertificate {
  // The common case is two comparisons; the error path builds the same errors as assertTimeValid.
  if (now < c.notAfterMs && now >= c.notBeforeMs) return c.loaded;
  assertValidityWindow(c.loaded, c.notBeforeMs, c.notAfterMs, now);
  return c.loaded;
}

type Fields = readonly unknown[];

// The fields that decide what a certificate input parses to; compared by value, so a provider that
// reads the same files again on every call is not re-parsed.
function fieldsOf(input: CertificateInput): Fields {
  const i = input as unknown as Record<string, unknown>;
  return [i.certificatePem, i.privateKeyPem, i.privateKey, i.pfx, i.passphrase, i.maxKdfIterations];
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b) === 0;
  if (a instanceof KeyObject && b instanceof KeyObject) return a.equals(b);
  return false;
}

/**
 * Wraps the `certificate` option: a fixed input is parsed once, right away (so a bad file or
 * passphrase fails at construction) and also served synchronously by `currentSync`; a provider is
 * called on every `current()` and its answer is parsed only when it differs from the previous one.
 *
 * @example
 * ```ts
 * const resolver = createCertificateResolver(() => ({ certificatePem: readFileSync("cert.pem"), privateKeyPem: readFileSync("key.pem") }));
 * const { binding } = await resolver.current(Date.now(), true);
 * ```
 */
export function createCertificateResolver(
  option: CertificateInput | CertificateProvider,
  now: number,
): CertificateResolver {
  if (typeof option !== "function") {
    const fixed = checked(loadCertificate(option, now));
    const currentSync = (at: number): LoadedCertificate => validAt(fixed, at);
    return {
      async current(at) {
        return currentSync(at);
      },
      currentSync,
    };
  }
  let last: { fields: Fields; checked: Checked } | undefined;
  return {
    currentSync: undefined,
    async current(at, pop) {
      let input: CertificateInput | undefined;
      try {
        input = await option();
      } catch (cause) {
        if (isCertboundError(cause)) throw cause;
        throw new CertboundError(
          "invalid_certificate",
          `${PACKAGE}: the certificate provider function failed: ${cause instanceof Error ? cause.name : typeof cause}. See \`cause\`.`,
          { cause },
        );
      }
      if (input === undefined || input === null) {
        throw new CertboundError(
          pop ? "mtls_certificate_not_provided" : "invalid_certificate",
          `${PACKAGE}: the certificate provider returned nothing. ${pop ? "mTLS Proof-of-Possession needs a certificate with its private key: " : ""}return { certificatePem, privateKeyPem }, { pfx, passphrase } or { certificatePem, privateKey }.`,
        );
      }
      const fields = fieldsOf(input);
      if (!last || !fields.every((f, i) => same(f, last?.fields[i]))) {
        last = { fields, checked: checked(loadCertificate(input)) };
      }
      return validAt(last.checked, at);
    },
  };
}
