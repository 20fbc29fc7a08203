import { X509Certificate } from "node:crypto";
import { CertboundError } from "../protocol/errors";

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/g;

/**
 * Splits a PEM bundle into certificates, in order (leaf first). Throws `invalid_certificate` when
 * the text holds no certificate or one that does not parse.
 *
 * @public
 * @example
 * ```ts
 * const [leaf, ...intermediates] = parsePemChain(readFileSync("chain.pem", "utf8"));
 * ```
 */
export function parsePemChain(pem: string): X509Certificate[] {
  if (typeof pem !== "string") {
    throw new CertboundError("invalid_certificate", "The certificate must be PEM text (a string).");
  }
  const chain: X509Certificate[] = [];
  for (const match of pem.matchAll(CERT_BLOCK)) {
    chain.push(parseDerCertificate(Buffer.from((match[1] as string).replace(/\s+/g, ""), "base64")));
  }
  if (chain.length === 0) {
    throw new CertboundError(
      "invalid_certificate",
      "No `-----BEGIN CERTIFICATE-----` block was found. Pass the certificate as PEM text (for DER bytes, use parseDerCertificate).",
    );
  }
  return chain;
}

/**
 * Parses one DER certificate; `invalid_certificate` when it does not parse.
 *
 * @public
 * @example
 * ```ts
 * const cert = parseDerCertificate(Buffer.from(base64Der, "base64"));
 * ```
 */
export function parseDerCertificate(der: Uint8Array): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (cause) {
    throw new CertboundError(
      "invalid_certificate",
      "The certificate bytes are not a valid X.509 certificate.",
      {
        cause,
      },
    );
  }
}

/**
 * PEM text of certificates, joined leaf first.
 *
 * @public
 * @example
 * ```ts
 * const pem = toPem([leaf, intermediate]);
 * ```
 */
export function toPem(chain: readonly X509Certificate[]): string {
  return `${chain.map((c) => c.toString().trim()).join("\n")}\n`;
}

/**
 * The end of a certificate's validity.
 *
 * @public
 * @example
 * ```ts
 * if (certificateNotAfter(cert).getTime() < Date.now()) console.warn("expired");
 * ```
 */
export function certificateNotAfter(cert: X509Certificate): Date {
  return new Date(cert.validTo);
}

/**
 * The start of a certificate's validity.
 *
 * @public
 * @example
 * ```ts
 * certificateNotBefore(cert).toISOString();
 * ```
 */
export function certificateNotBefore(cert: X509Certificate): Date {
  return new Date(cert.validFrom);
}
