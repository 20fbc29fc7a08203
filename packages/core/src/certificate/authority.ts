import { generateKeyPairSync, type KeyObject, randomBytes, sign, X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import type { BindingCertificate } from "../seams/result";
import {
  bitString,
  boolean,
  type Der,
  explicit,
  implicit,
  integer,
  nullValue,
  octetString,
  oid,
  sequence,
  set,
  time,
  utf8String,
} from "./asn1-der";
import { keyIdentifier } from "./key-identifier";
import { x5tS256 } from "./x5t";

/**
 * A key pair kind: `ec` (P-256, fast to generate) or `rsa` (2048 bits, needed for RS256/PS256).
 *
 * @public
 */
export type CertificateKeyType = "ec" | "rsa";

/**
 * A certificate with its key, as tests and the emulator use them.
 *
 * @public
 */
export interface IssuedCertificate extends BindingCertificate {
  readonly certificate: X509Certificate;
  /**
   * PKCS#8 PEM of the private key (empty when issued for a foreign public key). Named like the
   * option it goes into: `certificate: { certificatePem, privateKeyPem }`.
   */
  readonly privateKeyPem: string;
  /** @deprecated The same text as {@link IssuedCertificate.privateKeyPem}; use that name. */
  readonly keyPem: string;
}

/**
 * What to put in a certificate.
 *
 * @public
 */
export interface CertificateRequest {
  commonName: string;
  /** Extra subject attributes before CN, as [oid, value] pairs (e.g. DC = 0.9.2342.19200300.100.1.25). */
  subjectPrefix?: ReadonlyArray<readonly [string, string]>;
  /** DNS names and IP addresses for subjectAltName. */
  subjectAltNames?: readonly string[];
  /** @default "client" */
  usage?: "server" | "client" | "both";
  /** @default now - 1 h */
  notBefore?: Date;
  /** @default now + 30 days */
  notAfter?: Date;
  /** @default "ec" */
  keyType?: CertificateKeyType;
  /** Certify this public key instead of generating a pair (e.g. from a CSR). */
  publicKey?: KeyObject;
}

/**
 * A certificate authority that issues certificates at run time.
 *
 * @public
 */
export interface CertificateAuthority {
  readonly certificatePem: string;
  readonly certificate: X509Certificate;
  readonly privateKey: KeyObject;
  issue(request: CertificateRequest): IssuedCertificate;
}

const OID = {
  commonName: "2.5.4.3",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  subjectKeyIdentifier: "2.5.29.14",
  authorityKeyIdentifier: "2.5.29.35",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
  rsaWithSha256: "1.2.840.113549.1.1.11",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
};

/**
 * Generates a key pair of the given kind.
 *
 * @public
 * @example
 * ```ts
 * const { privateKey, publicKey } = generateKeyPair("rsa");
 * ```
 */
export function generateKeyPair(keyType: CertificateKeyType = "ec"): {
  privateKey: KeyObject;
  publicKey: KeyObject;
} {
  return keyType === "rsa"
    ? generateKeyPairSync("rsa", { modulusLength: 2048 })
    : generateKeyPairSync("ec", { namedCurve: "P-256" });
}

function name(attributes: ReadonlyArray<readonly [string, string]>): Der {
  return sequence(...attributes.map(([type, value]) => set(sequence(oid(type), utf8String(value)))));
}

function signatureAlgorithm(key: KeyObject): Der {
  return key.asymmetricKeyType === "rsa"
    ? sequence(oid(OID.rsaWithSha256), nullValue())
    : sequence(oid(OID.ecdsaWithSha256));
}

function extension(id: string, critical: boolean, value: Der): Der {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

// RFC 5280 4.2.1.1-2: with several CAs trusted at once (two emulators in one NODE_EXTRA_CA_CERTS),
// OpenSSL picks a leaf's issuer by these identifiers; without them it takes the first CA whose
// subject matches and fails the signature check.
function keyIdentifierExtensions(subjectKey: KeyObject, issuerKeyId: Buffer): Der[] {
  return [
    extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(subjectKey))),
    extension(OID.authorityKeyIdentifier, false, sequence(implicit(0, issuerKeyId))),
  ];
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split(".").map(Number));
  const full = new URL(`http://[${ip}]`).hostname.slice(1, -1);
  const [head = "", tail = ""] = full.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = full.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

/** Signs a TBS structure into a certificate. */
function signCertificate(tbs: Der, issuerKey: KeyObject): X509Certificate {
  const signature = sign("sha256", tbs, issuerKey);
  return new X509Certificate(sequence(tbs, signatureAlgorithm(issuerKey), bitString(signature)));
}

function buildTbs(options: {
  subject: Der;
  issuer: Der;
  publicKey: KeyObject;
  issuerKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  extensions: Der[];
}): Der {
  const serial = randomBytes(16);
  serial[0] = (serial[0] as number) & 0x7f;
  return sequence(
    explicit(0, integer(2)),
    integer(serial),
    signatureAlgorithm(options.issuerKey),
    options.issuer,
    sequence(time(options.notBefore), time(options.notAfter)),
    options.subject,
    options.publicKey.export({ type: "spki", format: "der" }),
    explicit(3, sequence(...options.extensions)),
  );
}

/**
 * Creates a certificate authority in memory (no files, no openssl) that issues server and client
 * certificates: the basis of the emulator and of every real-TLS test. Not meant for production PKI.
 *
 * @public
 * @example
 * ```ts
 * const ca = createCertificateAuthority({ commonName: "test CA" });
 * const server = ca.issue({ commonName: "localhost", subjectAltNames: ["localhost", "127.0.0.1"], usage: "server" });
 * const client = ca.issue({ commonName: "client-a" });
 * ```
 */
export function createCertificateAuthority(
  options: { commonName?: string; keyType?: CertificateKeyType; notAfter?: Date } = {},
): CertificateAuthority {
  const { privateKey, publicKey } = generateKeyPair(options.keyType ?? "ec");
  const subject = name([[OID.commonName, options.commonName ?? "certbound test CA"]]);
  const caKeyId = keyIdentifier(publicKey);
  const now = Date.now();
  const certificate = signCertificate(
    buildTbs({
      subject,
      issuer: subject,
      publicKey,
      issuerKey: privateKey,
      notBefore: new Date(now - 3600_000),
      notAfter: options.notAfter ?? new Date(now + 365 * 86400_000),
      extensions: [
        extension(OID.basicConstraints, true, sequence(boolean(true))),
        // keyCertSign + cRLSign
        extension(OID.keyUsage, true, tlv3(Buffer.from([0x01, 0x06]))),
        ...keyIdentifierExtensions(publicKey, caKeyId),
      ],
    }),
    privateKey,
  );
  const certificatePem = certificate.toString();
  return {
    certificatePem,
    certificate,
    privateKey,
    issue(request) {
      const pair = request.publicKey
        ? { publicKey: request.publicKey, privateKey: undefined }
        : generateKeyPair(request.keyType ?? "ec");
      const usage = request.usage ?? "client";
      const eku = [
        ...(usage !== "client" ? [oid(OID.serverAuth)] : []),
        ...(usage !== "server" ? [oid(OID.clientAuth)] : []),
      ];
      const sans = (request.subjectAltNames ?? []).map((n) =>
        isIP(n) ? implicit(7, ipBytes(n)) : implicit(2, Buffer.from(n, "ascii")),
      );
      const issuedAt = Date.now();
      const leaf = signCertificate(
        buildTbs({
          subject: name([...(request.subjectPrefix ?? []), [OID.commonName, request.commonName]]),
          issuer: subject,
          publicKey: pair.publicKey,
          issuerKey: privateKey,
          notBefore: request.notBefore ?? new Date(issuedAt - 3600_000),
          notAfter: request.notAfter ?? new Date(issuedAt + 30 * 86400_000),
          extensions: [
            extension(OID.basicConstraints, true, sequence()),
            // digitalSignature + keyEncipherment
            extension(OID.keyUsage, true, tlv3(Buffer.from([0x05, 0xa0]))),
            extension(OID.extKeyUsage, false, sequence(...eku)),
            ...(sans.length ? [extension(OID.subjectAltName, false, sequence(...sans))] : []),
            ...keyIdentifierExtensions(pair.publicKey, caKeyId),
          ],
        }),
        privateKey,
      );
      const privateKeyPem = pair.privateKey
        ? (pair.privateKey.export({ type: "pkcs8", format: "pem" }) as string)
        : "";
      return {
        certificate: leaf,
        certificatePem: leaf.toString(),
        privateKey: pair.privateKey as KeyObject,
        privateKeyPem,
        keyPem: privateKeyPem,
        x5tS256: x5tS256(leaf.raw),
        notAfter: new Date(leaf.validTo),
      };
    },
  };
}

// A BIT STRING given its raw content including the unused-bits byte.
function tlv3(content: Buffer): Der {
  return Buffer.concat([Buffer.from([0x03, content.length]), content]);
}
