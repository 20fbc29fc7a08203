import {
  createHash,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from "node:crypto";
import { asn1, keyIdentifier } from "@certbound/core/credential-kit";

/** A self-signed TLS server certificate with its key and SHA-1 thumbprint (upper-case hex). */
export interface SelfSignedServerCertificate {
  certificatePem: string;
  privateKey: KeyObject;
  sha1Thumbprint: string;
}

/**
 * A self-signed end-entity server certificate (not a CA): what Service Fabric's managed-identity
 * endpoint presents, pinned by clients through `IDENTITY_SERVER_THUMBPRINT`.
 */
export function createSelfSignedServerCertificate(
  commonName: string,
  now = Date.now(),
): SelfSignedServerCertificate {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const name = asn1.sequence(asn1.set(asn1.sequence(asn1.oid("2.5.4.3"), asn1.utf8String(commonName))));
  const ecdsaWithSha256 = asn1.sequence(asn1.oid("1.2.840.10045.4.3.2"));
  const serial = randomBytes(16);
  serial[0] = (serial[0] as number) & 0x7f;
  const extension = (id: string, critical: boolean, value: Buffer) =>
    asn1.sequence(asn1.oid(id), ...(critical ? [asn1.boolean(true)] : []), asn1.octetString(value));
  const tbs = asn1.sequence(
    asn1.explicit(0, asn1.integer(2)),
    asn1.integer(serial),
    ecdsaWithSha256,
    name,
    asn1.sequence(asn1.time(new Date(now - 3600_000)), asn1.time(new Date(now + 365 * 86400_000))),
    name,
    publicKey.export({ type: "spki", format: "der" }),
    asn1.explicit(
      3,
      asn1.sequence(
        extension("2.5.29.19", true, asn1.sequence()),
        // digitalSignature only: a signing key for the TLS handshake, nothing else.
        extension("2.5.29.15", true, asn1.tlv(0x03, Buffer.from([0x07, 0x80]))),
        extension("2.5.29.37", false, asn1.sequence(asn1.oid("1.3.6.1.5.5.7.3.1"))),
        // Key identifiers (RFC 5280 4.2.1.1-2): clients that trust this certificate through
        // NODE_EXTRA_CA_CERTS find it by them among the other emulators' certificates.
        extension("2.5.29.14", false, asn1.octetString(keyIdentifier(publicKey))),
        extension("2.5.29.35", false, asn1.sequence(asn1.implicit(0, keyIdentifier(publicKey)))),
        extension(
          "2.5.29.17",
          false,
          asn1.sequence(
            asn1.implicit(2, Buffer.from("localhost")),
            asn1.implicit(7, Buffer.from([127, 0, 0, 1])),
          ),
        ),
      ),
    ),
  );
  const certificate = new X509Certificate(
    asn1.sequence(tbs, ecdsaWithSha256, asn1.bitString(sign("sha256", tbs, privateKey))),
  );
  return {
    certificatePem: certificate.toString(),
    privateKey,
    sha1Thumbprint: createHash("sha1").update(certificate.raw).digest("hex").toUpperCase(),
  };
}
