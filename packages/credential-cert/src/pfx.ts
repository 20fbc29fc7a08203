import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { CertboundError, isCertboundError } from "@certbound/core";
import type * as Forge from "node-forge";
import { invalidPfx, wrongPassphrase } from "./pfx/errors";
import { DEFAULT_MAX_KDF_ITERATIONS, MAX_PFX_BYTES } from "./pfx/limits";
import { loadForge } from "./pfx/load-forge";
import { metered } from "./pfx/metered-forge";
import { prescanPfx } from "./pfx/prescan";
import { PfxWorkBudget } from "./pfx/work-budget";

/**
 * Options of {@link readPfx}.
 *
 * @public
 */
export interface ReadPfxOptions {
  /**
   * The most key-derivation work the whole file may ask for: the sum, over the integrity check and
   * every encrypted part, of its iterations times the blocks it derives. A file that asks for more
   * fails with `invalid_certificate` before that work is done, so that a crafted file cannot block
   * the event loop. OpenSSL 3's defaults need 6,144, `openssl pkcs12 -legacy` 12,288, Java's about
   * 30,000; each part is also limited to 1,000,000 iterations.
   * @default 1000000 (on one core, about 0.3 s of PBKDF2; the PKCS#12 KDF of MACs and legacy
   * encryption runs in node-forge's JavaScript, from about 1 s for SHA-1 to several for SHA-512)
   */
  maxKdfIterations?: number | undefined;
}

/**
 * What a PKCS#12 (PFX) file holds, ready for node:crypto.
 *
 * @public
 */
export interface PfxContents {
  /** Every certificate, in file order, with its exact DER bytes. */
  readonly certificates: readonly X509Certificate[];
  /** Every private key. */
  readonly keys: readonly KeyObject[];
}

/**
 * Reads a PKCS#12 (PFX) file with node-forge, an optional peer dependency loaded on the first call
 * (`npm install node-forge@1`; without it this throws `invalid_options` saying so). Reads the
 * encoding OpenSSL 3 writes by default (PBES2 with PBKDF2 and AES-CBC, HMAC-SHA256 MAC), the legacy
 * one (`openssl pkcs12 -legacy`, older Windows and Java: 3DES keys, RC2-40 certificates, HMAC-SHA1
 * MAC), files without a MAC or without encryption, RSA or EC keys. The certificates' DER bytes are
 * those in the file, so their `x5t#S256` is that of the file. Before node-forge derives any key,
 * the file's declared key-derivation work is checked against `maxKdfIterations`. Errors:
 * `wrong_passphrase`, `invalid_certificate` (not PKCS#12, damaged, an encoding node-forge does not
 * read, or more key-derivation work than `maxKdfIterations`), `invalid_private_key`,
 * `invalid_options` (node-forge not installed, a passphrase that is not a string, a bad
 * `maxKdfIterations`). The passphrase never appears in an error.
 *
 * @example
 * ```ts
 * const { certificates, keys } = readPfx(readFileSync("app.pfx"), process.env.PFX_PASSPHRASE);
 * ```
 * @public
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
  const forge = loadForge();
  try {
    return read(
      forge,
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      passphrase ?? "",
      budget,
    );
  } catch (error) {
    if (isCertboundError(error)) throw error;
    // Every expected failure is typed where it happens; this keeps a missed case from escaping untyped.
    throw invalidPfx("its structure is not one certbound can read");
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

// node-forge's errors are plain Errors; these are the ones that mean the passphrase did not fit.
const MAC_FAILED = /MAC could not be verified/;
const DECRYPT_FAILED = /Failed to decrypt|Unable to decrypt/;
const messageOf = (error: unknown): string => (error instanceof Error ? error.message : "");

function read(forge: typeof Forge, input: Buffer, passphrase: string, budget: PfxWorkBudget): PfxContents {
  let tree: Forge.asn1.Asn1;
  try {
    // BER, as some Windows and Java versions write it, parses too (indefinite lengths, chunks).
    tree = forge.asn1.fromDer(input.toString("binary"), true);
  } catch {
    throw invalidPfx("it is not DER or BER");
  }
  const scan = prescanPfx(forge.asn1, tree);
  // Everything the file asks for where it can be seen, refused before any of it is done.
  budget.preflight(scan.declared);
  const hasPassphrase = passphrase !== "";
  // forge takes `null` for no password at all: zero bytes for the PKCS#12 KDF (PBKDF2 gets "").
  const parse = (password: string | null) =>
    metered(forge, budget, scan.visibleSafeContents, () =>
      forge.pkcs12.pkcs12FromAsn1(tree, true, password as string),
    );
  let parsed: ReturnType<typeof parse>;
  try {
    try {
      parsed = parse(passphrase);
    } catch (error) {
      // An empty passphrase is either the empty string (two zero bytes for the PKCS#12 KDF, what
      // OpenSSL writes) or no password at all (zero bytes, what Windows writes): OpenSSL tries both.
      if (hasPassphrase || isCertboundError(error) || !MAC_FAILED.test(messageOf(error))) throw error;
      parsed = parse(null);
    }
  } catch (error) {
    if (isCertboundError(error)) throw error;
    const message = messageOf(error);
    if (MAC_FAILED.test(message)) throw wrongPassphrase(hasPassphrase, "mac");
    if (DECRYPT_FAILED.test(message)) throw wrongPassphrase(hasPassphrase, "decrypt");
    // Without a MAC, a wrong passphrase can decrypt to garbage that happens to end in valid padding;
    // what the pre-scan saw unencrypted was well-formed, so the garbage is what failed.
    if (!scan.hasMac && scan.hasEncryption) throw wrongPassphrase(hasPassphrase, "decrypt");
    throw invalidPfx("node-forge could not read its contents");
  }
  return collect(forge, parsed.result, parsed.rawByTree, scan.hasMac, hasPassphrase);
}

function collect(
  forge: typeof Forge,
  pfx: Forge.pkcs12.Pkcs12Pfx,
  rawByTree: ReadonlyMap<Forge.asn1.Asn1, string>,
  macVerified: boolean,
  hasPassphrase: boolean,
): PfxContents {
  const certificates: X509Certificate[] = [];
  const keys: KeyObject[] = [];
  const trees = [...rawByTree.keys()];
  for (const contents of pfx.safeContents) {
    for (const bag of contents.safeBags) {
      if (bag.type === forge.pki.oids.certBag) {
        certificates.push(certificateOf(bag, rawByTree, trees));
      } else if (bag.type === forge.pki.oids.keyBag || bag.type === forge.pki.oids.pkcs8ShroudedKeyBag) {
        const decrypted = contents.encrypted || bag.type === forge.pki.oids.pkcs8ShroudedKeyBag;
        keys.push(keyOf(forge, bag, decrypted && !macVerified, hasPassphrase));
      }
    }
  }
  return { certificates, keys };
}

// forge parsed the certificate's bytes into a tree (and, for RSA keys, that tree into a certificate
// whose `tbsCertificate` is the tree's first element): find the bytes it parsed.
function certificateOf(
  bag: Forge.pkcs12.Bag,
  rawByTree: ReadonlyMap<Forge.asn1.Asn1, string>,
  trees: readonly Forge.asn1.Asn1[],
): X509Certificate {
  const tbs = (bag.cert as { tbsCertificate?: unknown } | null | undefined)?.tbsCertificate;
  const tree = bag.cert
    ? trees.find((t) => Array.isArray(t.value) && t.value[0] === tbs)
    : (bag.asn1 as Forge.asn1.Asn1 | undefined);
  const raw = tree ? rawByTree.get(tree) : undefined;
  try {
    if (raw === undefined) throw new Error("no bytes");
    return new X509Certificate(Buffer.from(raw, "binary"));
  } catch {
    throw new CertboundError(
      "invalid_certificate",
      "A certificate in the PFX is not a valid X.509 certificate. Export the PFX again from the original certificate.",
    );
  }
}

function keyOf(
  forge: typeof Forge,
  bag: Forge.pkcs12.Bag,
  unverified: boolean,
  hasPassphrase: boolean,
): KeyObject {
  try {
    // forge turns RSA keys into its own objects (re-encoded here) and leaves others as ASN.1.
    const info = bag.key
      ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key))
      : (bag.asn1 as Forge.asn1.Asn1 | undefined);
    if (!info) throw new Error("no key");
    const der = Buffer.from(forge.asn1.toDer(info).getBytes(), "binary");
    return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  } catch {
    // Without a MAC, a wrong passphrase can decrypt to garbage with valid padding.
    if (unverified) throw wrongPassphrase(hasPassphrase, "decrypt");
    throw new CertboundError(
      "invalid_private_key",
      "The private key in the PFX is of a kind node:crypto cannot use. Export it as RSA or EC (P-256/P-384).",
    );
  }
}
