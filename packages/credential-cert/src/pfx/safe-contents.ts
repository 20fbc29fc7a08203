// Walks a PFX's AuthenticatedSafe (RFC 7292 sections 4.1 and 4.2) and collects the certificates'
// DER bytes, exactly as stored, and the private keys as PKCS#8 DER.
import { isCertboundError } from "@certbound/core";
import { decryptWithAny } from "./decrypt";
import { type Der, explicitField, octetsOf, oidOf, parseDer, sequenceOf, smallIntegerOf } from "./der-reader";
import { invalidPfx, unsupportedPfx, wrongPassphrase } from "./errors";
import { MAX_BAG_NESTING } from "./limits";
import { OID } from "./oids";
import type { PasswordForm } from "./passwords";

export interface SafeContentsContext {
  /** The password forms to decrypt with, in order: the one the MAC verified first, if there is a MAC. */
  readonly passwords: readonly PasswordForm[];
  /** Whether a MAC vouched for the passphrase (else a wrong one shows only in what decrypts). */
  readonly macVerified: boolean;
  readonly hasPassphrase: boolean;
  /** Decrypted buffers, for the caller to zero once the keys are loaded. */
  readonly scratch: Buffer[];
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
  const plain = decryptWithAny(algorithm, encrypted, context.passwords, what);
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
