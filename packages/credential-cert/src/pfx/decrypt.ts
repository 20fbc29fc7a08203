// Picks the decryption for an AlgorithmIdentifier found in a PFX (an EncryptedData's content
// encryption, or a shrouded key bag's), and tries each form of the passphrase.
import { algorithmOf, type Der } from "./der-reader";
import { unsupportedPfx } from "./errors";
import { OID } from "./oids";
import type { PasswordForm } from "./passwords";
import { pbes2Cost, pbes2Decrypt } from "./pbes2";
import { isPkcs12Pbe, PKCS12_RC4_OIDS, pkcs12PbeCost, pkcs12PbeDecrypt } from "./pkcs12-pbe";
import type { PfxWorkBudget } from "./work-budget";

/**
 * Decrypts `encrypted`, trying the password forms in order. `undefined` when none of them gives
 * well-formed padding, which is how a wrong passphrase shows.
 */
export function decryptWithAny(
  algorithm: Der | undefined,
  encrypted: Buffer,
  passwords: readonly PasswordForm[],
  what: string,
  budget: PfxWorkBudget,
): Buffer | undefined {
  const { oid, params } = algorithmOf(algorithm, `${what}'s encryption`);
  for (const password of passwords) {
    let plain: Buffer | undefined;
    if (oid === OID.pbes2) plain = pbes2Decrypt(params, encrypted, password.utf8, what, budget);
    else if (isPkcs12Pbe(oid)) plain = pkcs12PbeDecrypt(oid, params, encrypted, password.bmp, what, budget);
    else if (PKCS12_RC4_OIDS.includes(oid)) throw unsupportedPfx("RC4 encryption (pbeWithSHAAnd...RC4)");
    else throw unsupportedPfx(`the encryption algorithm ${oid}`);
    if (plain) return plain;
  }
  return undefined;
}

/**
 * The work one try of this decryption costs (see work-budget.ts), read from its parameters alone.
 * 0 for an algorithm that is not read: decrypting then fails with its own error, at no cost.
 */
export function decryptionCost(algorithm: Der | undefined, what: string): number {
  const { oid, params } = algorithmOf(algorithm, `${what}'s encryption`);
  if (oid === OID.pbes2) return pbes2Cost(params, what);
  if (isPkcs12Pbe(oid)) return pkcs12PbeCost(oid, params, what);
  return 0;
}
