import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { CertboundError } from "@certbound/core";
import forge from "node-forge";

/** What a PKCS#12 (PFX) file holds, ready for node:crypto. */
export interface PfxContents {
  /** Every certificate, in file order, with its exact DER bytes. */
  readonly certificates: readonly X509Certificate[];
  /** Every private key. */
  readonly keys: readonly KeyObject[];
}

const OID = {
  data: "1.2.840.113549.1.7.1",
  encryptedData: "1.2.840.113549.1.7.6",
  certBag: "1.2.840.113549.1.12.10.1.3",
  x509Certificate: "1.2.840.113549.1.9.22.1",
};

type Asn1 = forge.asn1.Asn1;
// Parts of node-forge that exist at run time but are missing from @types/node-forge.
type ForgeBag = forge.pkcs12.Bag & { asn1?: Asn1 };
type ForgePbe = {
  getCipher(
    oid: string,
    params: Asn1,
    password: string,
  ): {
    update(input: forge.util.ByteBuffer): void;
    finish(): boolean;
    output: forge.util.ByteBuffer;
  };
};

const wrongPassphrase = /MAC could not be verified|wrong password|Failed to decrypt|Invalid password/i;

/**
 * Reads a PKCS#12 (PFX) file: both the AES-256-CBC / PBKDF2 / HMAC-SHA256 encoding that OpenSSL 3
 * writes by default and the legacy 3DES / RC2-40 one (`openssl pkcs12 -legacy`), with RSA or EC keys.
 * node-forge checks the MAC and decrypts; the certificates' DER bytes are taken verbatim from the
 * file (forge would re-encode RSA certificates, which can change their bytes and so their
 * `x5t#S256`). Errors: `wrong_passphrase`, `invalid_certificate`. The passphrase never appears in an error.
 *
 * @example
 * ```ts
 * const { certificates, keys } = readPfx(readFileSync("app.pfx"), process.env.PFX_PASSPHRASE);
 * ```
 */
export function readPfx(bytes: Uint8Array, passphrase: string | undefined): PfxContents {
  const password = passphrase ?? "";
  const binary = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("binary");
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(binary, false), false, password);
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : "";
    if (wrongPassphrase.test(message)) {
      throw new CertboundError(
        "wrong_passphrase",
        passphrase
          ? "The passphrase does not open the PFX (its integrity check failed). Check the passphrase."
          : "The PFX is protected by a passphrase. Pass it as `passphrase` next to `pfx`.",
      );
    }
    throw new CertboundError(
      "invalid_certificate",
      `The PFX could not be read (${message.slice(0, 120) || "not PKCS#12"}). Pass the bytes of a PKCS#12 file (.pfx/.p12), e.g. from readFileSync, or its base64 text.`,
    );
  }
  const keys: KeyObject[] = [];
  for (const bagType of [forge.pki.oids.pkcs8ShroudedKeyBag, forge.pki.oids.keyBag]) {
    for (const bag of (p12.getBags({ bagType })[bagType as string] ?? []) as ForgeBag[]) {
      keys.push(toKeyObject(bag));
    }
  }
  let certificates: X509Certificate[];
  try {
    certificates = collectCertificates(forge.asn1.fromDer(binary, false), password).map(
      (der) => new X509Certificate(Buffer.from(der, "binary")),
    );
  } catch (cause) {
    throw new CertboundError(
      "invalid_certificate",
      `A certificate in the PFX could not be read (${cause instanceof Error ? cause.message.slice(0, 120) : "unknown"}).`,
    );
  }
  return { certificates, keys };
}

function toKeyObject(bag: ForgeBag): KeyObject {
  // forge decodes RSA keys itself and hands other key types (EC) back as PrivateKeyInfo ASN.1.
  const info = bag.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key)) : bag.asn1;
  if (!info) {
    throw new CertboundError("invalid_private_key", "A key in the PFX could not be decoded.");
  }
  try {
    return createPrivateKey({
      key: Buffer.from(forge.asn1.toDer(info).getBytes(), "binary"),
      format: "der",
      type: "pkcs8",
    });
  } catch {
    throw new CertboundError(
      "invalid_private_key",
      "The private key in the PFX is of a kind node:crypto cannot use. Export it as RSA or EC (P-256/P-384).",
    );
  }
}

// The raw DER of every certBag: PFX -> authSafe (Data) -> ContentInfo* (Data | EncryptedData)
// -> SafeBag* -> CertBag -> [0] OCTET STRING.
function collectCertificates(pfx: Asn1, password: string): string[] {
  const authSafe = contextValue(child(pfx, 1));
  const found: string[] = [];
  for (const info of children(forge.asn1.fromDer(octets(authSafe), false))) {
    const type = oidOf(child(info, 0));
    let safeContents: string;
    if (type === OID.data) safeContents = octets(contextValue(info));
    else if (type === OID.encryptedData) safeContents = decrypt(child(contextValue(info), 1), password);
    else continue;
    for (const bag of children(forge.asn1.fromDer(safeContents, false))) {
      if (oidOf(child(bag, 0)) !== OID.certBag) continue;
      const certBag = contextValue(bag);
      if (oidOf(child(certBag, 0)) !== OID.x509Certificate) continue;
      found.push(octets(contextValue(certBag)));
    }
  }
  return found;
}

// EncryptedContentInfo ::= SEQUENCE { contentType, contentEncryptionAlgorithm, [0] IMPLICIT encryptedContent }
function decrypt(encryptedContentInfo: Asn1, password: string): string {
  const algorithm = child(encryptedContentInfo, 1);
  const encrypted = child(encryptedContentInfo, 2);
  const pbe = (forge.pki as unknown as { pbe: ForgePbe }).pbe;
  const cipher = pbe.getCipher(oidOf(child(algorithm, 0)), child(algorithm, 1), password);
  cipher.update(forge.util.createBuffer(octets(encrypted)));
  if (!cipher.finish()) throw new Error("Failed to decrypt PKCS#12 SafeContents");
  return cipher.output.getBytes();
}

function children(node: Asn1): Asn1[] {
  if (!Array.isArray(node.value)) throw new Error("unexpected ASN.1 primitive");
  return node.value;
}

function child(node: Asn1, index: number): Asn1 {
  const value = children(node)[index];
  if (!value) throw new Error("truncated ASN.1 structure");
  return value;
}

// The inner value of a `[0] EXPLICIT` field, the second element of ContentInfo / SafeBag / CertBag.
function contextValue(node: Asn1): Asn1 {
  const tagged = child(node, 1);
  if (tagged.tagClass !== forge.asn1.Class.CONTEXT_SPECIFIC) throw new Error("expected a [0] field");
  return child(tagged, 0);
}

// An OCTET STRING's bytes; BER lets it arrive in constructed chunks.
function octets(node: Asn1): string {
  return Array.isArray(node.value) ? node.value.map(octets).join("") : node.value;
}

function oidOf(node: Asn1): string {
  if (node.type !== forge.asn1.Type.OID || Array.isArray(node.value)) throw new Error("expected an OID");
  return forge.asn1.derToOid(node.value);
}
