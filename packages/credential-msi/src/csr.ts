import { constants, type KeyObject, sign } from "node:crypto";
import { CertboundError } from "@certbound/core";
import { asn1 } from "@certbound/core/credential-kit";

/** Object identifiers used in the IMDS v2 certificate request (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s3-4-csr). */
export const CSR_OID = {
  domainComponent: "0.9.2342.19200300.100.1.25",
  commonName: "2.5.4.3",
  /** Microsoft's attribute carrying the compute unit id (cuId) as JSON. */
  computeUnitId: "1.3.6.1.4.1.311.90.2.10",
  rsassaPss: "1.2.840.113549.1.1.10",
  mgf1: "1.2.840.113549.1.1.8",
  sha256: "2.16.840.1.101.3.4.2.1",
} as const;

/**
 * The compute unit id from getplatformmetadata: at least one of the two is present.
 *
 * @public
 * @example
 * ```ts
 * const cuId: ComputeUnitId = { vmId: "f1a2..." };
 * ```
 */
export interface ComputeUnitId {
  readonly vmId?: string | undefined;
  readonly vmssId?: string | undefined;
}

/**
 * What goes into the certificate request.
 *
 * @public
 * @example
 * ```ts
 * const input: CsrInput = { tenantId, clientId, cuId: { vmId }, privateKey, publicKey };
 * ```
 */
export interface CsrInput {
  readonly tenantId: string;
  readonly clientId: string;
  readonly cuId: ComputeUnitId;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** PSS salt length IMDS expects: the SHA-256 digest size. */
const SALT_LENGTH = 32;

/**
 * The compact JSON of the compute unit id with absent fields left out, `vmId` first.
 *
 * @example
 * ```ts
 * computeUnitIdJson({ vmId: "a" }); // '{"vmId":"a"}'
 * ```
 */
export function computeUnitIdJson(cuId: ComputeUnitId): string {
  const value: Record<string, string> = {};
  if (cuId.vmId !== undefined) value.vmId = cuId.vmId;
  if (cuId.vmssId !== undefined) value.vmssId = cuId.vmssId;
  return JSON.stringify(value);
}

/**
 * The AlgorithmIdentifier of RSASSA-PSS with SHA-256, MGF1-SHA256 and a 32-byte salt, byte for byte
 * as .NET's `CertificateRequest` writes it (the only encoding IMDS has been exercised with): the
 * SHA-256 AlgorithmIdentifiers carry no parameters at all, not a NULL (RFC 5754 section 2), and the
 * trailer field is left out as its only value is the default.
 */
export function pssSha256AlgorithmIdentifier(): asn1.Der {
  const sha256 = asn1.sequence(asn1.oid(CSR_OID.sha256));
  return asn1.sequence(
    asn1.oid(CSR_OID.rsassaPss),
    asn1.sequence(
      asn1.explicit(0, sha256),
      asn1.explicit(1, asn1.sequence(asn1.oid(CSR_OID.mgf1), sha256)),
      asn1.explicit(2, asn1.integer(SALT_LENGTH)),
    ),
  );
}

// PrintableString's alphabet (X.680 section 41.4): what a GUID client id always fits.
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/**
 * A directory string as .NET's X500DistinguishedName encodes it: PrintableString when every
 * character fits that alphabet (a GUID does), UTF8String otherwise.
 */
export function directoryString(text: string): asn1.Der {
  return PRINTABLE.test(text) ? asn1.tlv(0x13, Buffer.from(text, "ascii")) : asn1.utf8String(text);
}

/**
 * The DER of the `CertificationRequestInfo` (the part that is signed).
 */
export function buildCertificationRequestInfo(input: Omit<CsrInput, "privateKey">): asn1.Der {
  const subject = asn1.sequence(
    asn1.set(asn1.sequence(asn1.oid(CSR_OID.domainComponent), asn1.ia5String(input.tenantId))),
    asn1.set(asn1.sequence(asn1.oid(CSR_OID.commonName), directoryString(input.clientId))),
  );
  const attribute = asn1.sequence(
    asn1.oid(CSR_OID.computeUnitId),
    asn1.set(asn1.utf8String(computeUnitIdJson(input.cuId))),
  );
  return asn1.sequence(
    asn1.integer(0),
    subject,
    input.publicKey.export({ type: "spki", format: "der" }),
    // attributes [0] IMPLICIT SET OF Attribute: a context tag around the one attribute.
    asn1.explicit(0, attribute),
  );
}

/**
 * Builds the PKCS#10 certificate request IMDS v2 certifies (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s3-4-csr):
 * version 0, subject `DC=<tenantId>, CN=<clientId>`, one attribute
 * `1.3.6.1.4.1.311.90.2.10` holding the compute unit id as JSON, signed RSASSA-PSS/SHA-256 with a
 * 32-byte salt. Returns the DER; IMDS takes it as one line of base64.
 *
 * @public
 * @example
 * ```ts
 * const der = buildCsr({ tenantId, clientId, cuId: { vmId }, privateKey, publicKey });
 * const body = JSON.stringify({ csr: der.toString("base64") });
 * ```
 */
export function buildCsr(input: CsrInput): Buffer {
  if (input.privateKey.asymmetricKeyType !== "rsa" || input.publicKey.asymmetricKeyType !== "rsa") {
    throw new CertboundError(
      "invalid_private_key",
      `IMDS v2 needs an RSA key (2048 bits or more) to sign the certificate request with RSASSA-PSS; the key provider returned a ${input.privateKey.asymmetricKeyType ?? "non-asymmetric"} key.`,
    );
  }
  const bits = input.privateKey.asymmetricKeyDetails?.modulusLength;
  if (bits !== undefined && bits < 2048) {
    throw new CertboundError(
      "invalid_private_key",
      `IMDS v2 needs an RSA key of at least 2048 bits; the key provider returned ${bits} bits.`,
    );
  }
  if (!/^[\x20-\x7e]*$/.test(input.tenantId)) {
    throw new CertboundError(
      "managed_identity_request_failed",
      "IMDS returned a tenant id with characters that cannot be encoded as a domain component.",
    );
  }
  const info = buildCertificationRequestInfo(input);
  const signature = sign("sha256", info, {
    key: input.privateKey,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: SALT_LENGTH,
  });
  return asn1.sequence(info, pssSha256AlgorithmIdentifier(), asn1.bitString(signature));
}
