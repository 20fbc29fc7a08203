import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { CertboundError, isCertboundError } from "@certbound/core";
import { explicitField, octetsOf, oidOf, parseDer, sequenceOf, smallIntegerOf } from "./pfx/der-reader";
import { invalidPfx, unsupportedPfx, wrongPassphrase } from "./pfx/errors";
import { DEFAULT_MAX_KDF_ITERATIONS, MAX_PFX_BYTES } from "./pfx/limits";
import { readMacData, verifyMac } from "./pfx/mac";
import { OID } from "./pfx/oids";
import { passwordForms } from "./pfx/passwords";
import { type CollectedKey, collectBags, declaredWork } from "./pfx/safe-contents";
import { PfxWorkBudget } from "./pfx/work-budget";

/** Options of {@link readPfx}. */
export interface ReadPfxOptions {
  /**
   * The most key-derivation work the whole file may ask for: the sum, over the integrity check and
   * every encrypted part, of its iterations times the blocks it derives. A file that asks for more
   * fails with `invalid_certificate` before that work is done, so that a crafted file cannot block
   * the event loop. OpenSSL 3's defaults need 6,144, `openssl pkcs12 -legacy` 12,288, Java's about
   * 30,000; each part is also limited to 1,000,000 iterations.
   * @default 1000000 (at most about a second of work on one core)
   */
  maxKdfIterations?: number | undefined;
}

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
 * damaged, an encoding certbound does not read, or more key-derivation work than
 * `maxKdfIterations`), `invalid_private_key`, `invalid_options` (a passphrase that is not a
 * string, a bad `maxKdfIterations`). The passphrase never appears in an error.
 *
 * @example
 * ```ts
 * const { certificates, keys } = readPfx(readFileSync("app.pfx"), process.env.PFX_PASSPHRASE);
 * ```
 */
export function readPfx(
  bytes: Uint8Array,
  passphrase: string | undefined,
  options: ReadPfxOptions = {},
): PfxContents {
  if (!(bytes instanceof Uint8Array)) throw invalidPfx("the input is not bytes");
  if (passphrase !== undefined && typeof passphrase !== "string") {
    throw new CertboundError("invalid_options", "The PFX `passphrase` must be a string.");
  }
  const budget = new PfxWorkBudget(checkedMaxKdfIterations(options?.maxKdfIterations));
  if (bytes.byteLength > MAX_PFX_BYTES) throw invalidPfx("it is larger than 16 MiB");
  const scratch: Buffer[] = [];
  try {
    return read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), passphrase, scratch, budget);
  } catch (error) {
    if (isCertboundError(error)) throw error;
    // Every expected failure is typed where it happens; this keeps a missed case from escaping untyped.
    throw invalidPfx("its structure is not one certbound can read");
  } finally {
    for (const buffer of scratch) buffer.fill(0);
  }
}

/**
 * Validates `maxKdfIterations` (a positive whole number) and applies the default.
 * @internal
 * @example
 * ```ts
 * checkedMaxKdfIterations(undefined); // 1000000
 * ```
 */
export function checkedMaxKdfIterations(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_KDF_ITERATIONS;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new CertboundError(
      "invalid_options",
      `\`maxKdfIterations\` must be a positive whole number (${DEFAULT_MAX_KDF_ITERATIONS} by default).`,
    );
  }
  return value;
}

// PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo, macData MacData OPTIONAL }
function read(
  input: Buffer,
  passphrase: string | undefined,
  scratch: Buffer[],
  budget: PfxWorkBudget,
): PfxContents {
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
  const mac = macData ? readMacData(macData) : undefined;
  // Everything the file asks for where it can be seen, refused before any of it is done.
  budget.preflight((mac?.cost ?? 0) + declaredWork(authSafe));
  if (mac) {
    const verified = verifyMac(mac, authSafe, passwords, budget);
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
    budget,
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
