// Walks a PFX's AuthenticatedSafe (RFC 7292 sections 4.1 and 4.2) and collects the certificates'
// DER bytes, exactly as stored, and the private keys as PKCS#8 DER.
import { isCertboundError } from "@certbound/core";
import { decryptionCost, decryptWithAny } from "./decrypt";
import { type Der, explicitField, octetsOf, oidOf, parseDer, sequenceOf, smallIntegerOf } from "./der-reader";
import { invalidPfx, unsupportedPfx, wrongPassphrase } from "./errors";
import { MAX_BAG_NESTING } from "./limits";
import { OID } from "./oids";
import type { PasswordForm } from "./passwords";
import type { PfxWorkBudget } from "./work-budget";

export interface SafeContentsContext {
  /** The password forms to decrypt with, in order: the one the MAC verified first, if there is a MAC. */
  readonly passwords: readonly PasswordForm[];
  /** Whether a MAC vouched for the passphrase (else a wrong one shows only in what decrypts). */
  readonly macVerified: boolean;
  readonly hasPassphrase: boolean;
  /** Decrypted buffers, for the caller to zero once the keys are loaded. */
  readonly scratch: Buffer[];
  /** The file's key-derivation work: every decryption is charged to it before it runs. */
  readonly budget: PfxWorkBudget;
}

export interface CollectedKey {
  readonly pkcs8: Buffer;
  /** Came out of a decryption: without a MAC, an unreadable key then means a wrong passphrase. */
  readonly decrypted: boolean;
}

export interface Collected {
  readonly certificates: Buffer[];
  readonly keys: CollectedKey[];
}

/** AuthenticatedSafe ::= SEQUENCE OF ContentInfo (data or encryptedData). */
export function collectBags(authSafe: Buffer, context: SafeContentsContext): Collected {
  const found: Collected = { certificates: [], keys: [] };
  const infos = sequenceOf(parseDer(authSafe, "the AuthenticatedSafe"), "the AuthenticatedSafe");
  for (const info of infos) {
    const [typeNode, contentNode] = sequenceOf(info, "a ContentInfo", 1);
    const type = oidOf(typeNode, "a ContentInfo's type");
    // A ContentInfo without content carries nothing.
    if (contentNode === undefined) continue;
    const content = explicitField(contentNode, 0, "a ContentInfo's content");
    if (type === OID.data) {
      walkSafeContents(octetsOf(content, "a SafeContents"), context, found, 0, false);
    } else if (type === OID.encryptedData) {
      const plain = decryptEncryptedData(content, context);
      if (plain) walkSafeContents(plain, context, found, 0, true);
    } else if (type === OID.envelopedData) {
      throw unsupportedPfx("public-key encrypted contents (envelopedData)");
    } else {
      throw invalidPfx(`a ContentInfo has the unknown type ${type}`);
    }
  }
  return found;
}

// EncryptedData ::= SEQUENCE { version INTEGER, encryptedContentInfo EncryptedContentInfo, ... }
// EncryptedContentInfo ::= SEQUENCE { contentType, contentEncryptionAlgorithm,
//   encryptedContent [0] IMPLICIT OCTET STRING OPTIONAL }
function decryptEncryptedData(node: Der, context: SafeContentsContext): Buffer | undefined {
  const [versionNode, infoNode] = sequenceOf(node, "an EncryptedData", 2);
  smallIntegerOf(versionNode, "an EncryptedData's version");
  const [, algorithm, encryptedNode] = sequenceOf(infoNode, "an EncryptedContentInfo", 2);
  if (encryptedNode === undefined) return undefined;
  const encrypted = octetsOf(encryptedNode, "encrypted contents", 0);
  return decrypt(algorithm, encrypted, context, "encrypted contents");
}

function decrypt(
  algorithm: Der | undefined,
  encrypted: Buffer,
  context: SafeContentsContext,
  what: string,
): Buffer {
  const plain = decryptWithAny(algorithm, encrypted, context.passwords, what, context.budget);
  if (!plain) throw wrongPassphrase(context.hasPassphrase, "decrypt");
  context.scratch.push(plain);
  return plain;
}

// SafeContents ::= SEQUENCE OF SafeBag
// SafeBag ::= SEQUENCE { bagId OBJECT IDENTIFIER, bagValue [0] EXPLICIT ANY, bagAttributes SET OPTIONAL }
function walkSafeContents(
  bytes: Buffer,
  context: SafeContentsContext,
  found: Collected,
  nesting: number,
  decrypted: boolean,
): void {
  let bags: Der[];
  try {
    bags = sequenceOf(parseDer(bytes, "a SafeContents"), "a SafeContents");
  } catch (error) {
    // Without a MAC, a wrong passphrase can decrypt to garbage that happens to end in valid padding.
    if (
      decrypted &&
      !context.macVerified &&
      isCertboundError(error) &&
      error.code === "invalid_certificate"
    ) {
      throw wrongPassphrase(context.hasPassphrase, "decrypt");
    }
    throw error;
  }
  // The shrouded keys of a SafeContents that was encrypted were out of sight until now: refuse
  // them all before decrypting the first, if together they would go over the budget.
  context.budget.preflight(bagsWork(bags, nesting));
  for (const bag of bags) {
    const [idNode, valueNode] = sequenceOf(bag, "a SafeBag", 2);
    const bagId = oidOf(idNode, "a SafeBag's type");
    const value = explicitField(valueNode, 0, "a SafeBag's value");
    if (bagId === OID.keyBag) {
      found.keys.push({ pkcs8: value.encoded, decrypted });
    } else if (bagId === OID.pkcs8ShroudedKeyBag) {
      // EncryptedPrivateKeyInfo ::= SEQUENCE { encryptionAlgorithm AlgorithmIdentifier, encryptedData OCTET STRING }
      const [algorithm, encryptedNode] = sequenceOf(value, "a shrouded key", 2);
      const encrypted = octetsOf(encryptedNode, "a shrouded key's data");
      found.keys.push({ pkcs8: decrypt(algorithm, encrypted, context, "a shrouded key"), decrypted: true });
    } else if (bagId === OID.certBag) {
      // CertBag ::= SEQUENCE { certId OBJECT IDENTIFIER, certValue [0] EXPLICIT ANY }
      const [certId, certValue] = sequenceOf(value, "a certificate bag", 2);
      // Other certificate types (SDSI) cannot serve for TLS: skip them.
      if (oidOf(certId, "a certificate bag's type") !== OID.x509Certificate) continue;
      found.certificates.push(octetsOf(explicitField(certValue, 0, "a certificate"), "a certificate"));
    } else if (bagId === OID.safeContentsBag) {
      if (nesting >= MAX_BAG_NESTING) throw invalidPfx("SafeContents are nested too deeply");
      walkSafeContents(value.encoded, context, found, nesting + 1, decrypted);
    }
    // CRL and secret bags carry nothing a client certificate needs.
  }
}

// What follows prices the work a part of the file declares, from its parameters alone, so that
// too much of it is refused before any is done. It is lenient: a part it cannot read costs 0 here
// and fails with its own error when it is processed (whose every decryption is charged anyway).
const priced = (price: () => number): number => {
  try {
    return price();
  } catch {
    return 0;
  }
};

function bagsWork(bags: readonly Der[], nesting: number): number {
  let work = 0;
  for (const bag of bags) {
    work += priced(() => {
      const [idNode, valueNode] = sequenceOf(bag, "a SafeBag", 2);
      const bagId = oidOf(idNode, "a SafeBag's type");
      const value = explicitField(valueNode, 0, "a SafeBag's value");
      if (bagId === OID.pkcs8ShroudedKeyBag) {
        return decryptionCost(sequenceOf(value, "a shrouded key", 2)[0], "a shrouded key");
      }
      if (bagId === OID.safeContentsBag && nesting < MAX_BAG_NESTING) {
        return bagsWork(sequenceOf(value, "a SafeContents"), nesting + 1);
      }
      return 0;
    });
  }
  return work;
}

/**
 * The key-derivation work the AuthenticatedSafe declares where it can be seen without decrypting:
 * every EncryptedData, and the shrouded keys of every unencrypted SafeContents (one try each).
 */
export function declaredWork(authSafe: Buffer): number {
  const infos = tryInfos(authSafe);
  let work = 0;
  for (const info of infos) {
    work += priced(() => {
      const [typeNode, contentNode] = sequenceOf(info, "a ContentInfo", 1);
      if (contentNode === undefined) return 0;
      const type = oidOf(typeNode, "a ContentInfo's type");
      const content = explicitField(contentNode, 0, "a ContentInfo's content");
      if (type === OID.data) {
        const safeContents = octetsOf(content, "a SafeContents");
        return bagsWork(sequenceOf(parseDer(safeContents, "a SafeContents"), "a SafeContents"), 0);
      }
      if (type !== OID.encryptedData) return 0;
      const [, infoNode] = sequenceOf(content, "an EncryptedData", 2);
      const [, algorithm, encryptedNode] = sequenceOf(infoNode, "an EncryptedContentInfo", 2);
      return encryptedNode === undefined ? 0 : decryptionCost(algorithm, "encrypted contents");
    });
  }
  return work;
}

function tryInfos(authSafe: Buffer): Der[] {
  try {
    return sequenceOf(parseDer(authSafe, "the AuthenticatedSafe"), "the AuthenticatedSafe");
  } catch {
    return [];
  }
}
