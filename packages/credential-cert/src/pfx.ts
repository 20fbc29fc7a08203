import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { CertboundError, isCertboundError } from "@certbound/core";
import { explicitField, octetsOf, oidOf, parseDer, sequenceOf, smallIntegerOf } from "./pfx/der-reader";
import { invalidPfx, unsupportedPfx, wrongPassphrase } from "./pfx/errors";
import { MAX_PFX_BYTES } from "./pfx/limits";
import { verifyMac } from "./pfx/mac";
import { OID } from "./pfx/oids";
import { passwordForms } from "./pfx/passwords";
import { type CollectedKey, collectBags } from "./pfx/safe-contents";

/** What a PKCS#12 (PFX) file holds, ready for node:crypto. */
export interface PfxContents {
  /** Every certificate, in file order, with its exact DER bytes. */
  readonly certificates: readonly X509Certificate[];
  /** Every private key. */
  readonly keys: readonly KeyObject[];
}

/**
 * Reads a PKCS#12 (PFX) file with node:crypto: the encoding OpenSSL 3 writes by default (PBES2 with
 * PBKDF2 and AES-CBC, HMAC-SHA256 MAC), the legacy one (`openssl pkcs12 -legacy`, older Windows and
 * Java: 3DES and RC2 with the PKCS#12 KDF, HMAC-SHA1 MAC), files without a MAC or without
 * encryption, RSA or EC keys. The certificates' DER bytes are taken verbatim from the file, so their
 * `x5t#S256` is that of the file. Errors: `wrong_passphrase`, `invalid_certificate` (not PKCS#12,
 * damaged, or an encoding certbound does not read), `invalid_private_key`, `invalid_options` (a
 * passphrase that is not a string). The passphrase never appears in an error.
 *
 * @example
 * ```ts
 * const { certificates, keys } = readPfx(readFileSync("app.pfx"), process.env.PFX_PASSPHRASE);
 * ```
 */
export function readPfx(bytes: Uint8Array, passphrase: string | undefined): PfxContents {
  if (!(bytes instanceof Uint8Array)) throw invalidPfx("the input is not bytes");
  if (passphrase !== undefined && typeof passphrase !== "string") {
    throw new CertboundError("invalid_options", "The PFX `passphrase` must be a string.");
  }
  if (bytes.byteLength > MAX_PFX_BYTES) throw invalidPfx("it is larger than 16 MiB");
  const scratch: Buffer[] = [];
  try {
    return read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), passphrase, scratch);
  } catch (error) {
    if (isCertboundError(error)) throw error;
    // Every expected failure is typed where it happens; this keeps a missed case from escaping untyped.
    throw invalidPfx("its structure is not one certbound can read");
  } finally {
    for (const buffer of scratch) buffer.fill(0);
  }
}

// PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo, macData MacData OPTIONAL }
function read(input: Buffer, passphrase: string | undefined, scratch: Buffer[]): PfxContents {
  const [versionNode, authSafeInfo, macData, ...extra] = sequenceOf(parseDer(input, "the PFX"), "the PFX", 2);
  if (extra.length > 0) throw invalidPfx("the PFX has extra fields");
  if (smallIntegerOf(versionNode, "the PFX version") !== 3) throw invalidPfx("the PFX version is not 3");
  const [typeNode, contentNode] = sequenceOf(authSafeInfo, "the PFX contents", 2);
  const type = oidOf(typeNode, "the PFX contents' type");
  if (type === OID.signedData) throw unsupportedPfx("public-key integrity (signedData)");
  if (type !== OID.data) throw invalidPfx(`the PFX contents have the unknown type ${type}`);
  const authSafe = octetsOf(explicitField(contentNode, 0, "the PFX contents"), "the PFX contents");

  const hasPassphrase = passphrase !== undefined && passphrase !== "";
  let passwords = passwordForms(passphrase ?? "");
  if (macData) {
    const verified = verifyMac(macData, authSafe, passwords);
    if (!verified) throw wrongPassphrase(hasPassphrase, "mac");
    // Decrypt with the form the MAC accepted, then the others: a writer may have used one
    // encoding of an empty passphrase for the MAC and the other for encryption.
    passwords = [verified, ...passwords.filter((p) => p !== verified)];
  }
  const found = collectBags(authSafe, {
    passwords,
    macVerified: macData !== undefined,
    hasPassphrase,
    scratch,
  });

  const certificates = found.certificates.map((der) => {
    try {
      return new X509Certificate(der);
    } catch {
      throw new CertboundError(
        "invalid_certificate",
        "A certificate in the PFX is not a valid X.509 certificate. Export the PFX again from the original certificate.",
      );
    }
  });
  const keys = found.keys.map((key) => toKeyObject(key, macData !== undefined, hasPassphrase));
  return { certificates, keys };
}

function toKeyObject(key: CollectedKey, macVerified: boolean, hasPassphrase: boolean): KeyObject {
  try {
    return createPrivateKey({ key: key.pkcs8, format: "der", type: "pkcs8" });
  } catch {
    // Without a MAC, a wrong passphrase can decrypt to garbage with valid padding.
    if (key.decrypted && !macVerified) throw wrongPassphrase(hasPassphrase, "decrypt");
    throw new CertboundError(
      "invalid_private_key",
      "The private key in the PFX is of a kind node:crypto cannot use. Export it as RSA or EC (P-256/P-384).",
    );
  }
}
