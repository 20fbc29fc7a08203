// Runs node-forge's PKCS#12 parser with three things it does not offer: every key derivation
// charged to the file's work budget before it runs, the bags an encrypted part reveals priced
// before the first of them is decrypted, and each certificate's bytes exactly as the file stores
// them (forge hands out parsed certificates, whose re-encoding may differ from the original).
//
// It does so by wrapping four of forge's functions for the duration of one synchronous call, and
// restoring them in `finally`: no other code can run in between, so nothing else sees the wrappers.
// PBKDF2 goes to node:crypto: forge's own runs in JavaScript (about 60 times slower) and takes the
// passphrase's UTF-16 code units as bytes, where RFC 8018 and OpenSSL use UTF-8.
import { pbkdf2Sync } from "node:crypto";
import type * as Forge from "node-forge";
import { invalidPfx } from "./errors";
import { pkcs12KdfWeight } from "./limits";
import { safeContentsWork } from "./prescan";
import type { PfxWorkBudget } from "./work-budget";

type ForgeModule = typeof Forge;
type Asn1 = Forge.asn1.Asn1;

/** forge message digest objects (and hash names) to node:crypto names and output sizes. */
const HASHES: Readonly<Record<string, { name: string; size: number }>> = {
  sha1: { name: "sha1", size: 20 },
  sha256: { name: "sha256", size: 32 },
  sha384: { name: "sha384", size: 48 },
  sha512: { name: "sha512", size: 64 },
};

function hashOf(md: unknown): { name: string; size: number } {
  const name =
    md === undefined || md === null
      ? "sha1"
      : typeof md === "string"
        ? md
        : String((md as { algorithm?: unknown }).algorithm);
  const hash = HASHES[name.toLowerCase()];
  if (!hash) throw invalidPfx(`it asks for PBKDF2 with ${name}`);
  return hash;
}

/**
 * What a metered run found besides forge's result.
 * @internal
 * @example
 * ```ts
 * const { result, rawByTree }: Metered<Pkcs12Pfx> = metered(forge, budget, visible, parse);
 * ```
 */
export interface Metered<T> {
  readonly result: T;
  /** The exact DER of every certificate forge parsed, by the ASN.1 tree forge parsed it into. */
  readonly rawByTree: ReadonlyMap<Asn1, string>;
}

/**
 * Calls `run` (which calls forge's PKCS#12 parser) with forge's key derivations charged to `budget`
 * and its parses recorded. `visible` are the SafeContents the pre-scan already priced, once each.
 * @internal
 * @example
 * ```ts
 * const { result } = metered(forge, budget, prescan.visibleSafeContents, () => forge.pkcs12.pkcs12FromAsn1(tree, true, ""));
 * ```
 */
export function metered<T>(
  forge: ForgeModule,
  budget: PfxWorkBudget,
  visible: readonly string[],
  run: () => T,
): Metered<T> {
  const rawByTree = new Map<Asn1, string>();
  // How many times each visible SafeContents is still to be parsed: a copy of one hidden in
  // encrypted contents (same bytes) is new work and is priced like any other hidden one.
  const unpriced = new Map<string, number>();
  for (const bytes of visible) unpriced.set(bytes, (unpriced.get(bytes) ?? 0) + 1);
  const asn1 = forge.asn1;
  const pbe = (forge.pki as unknown as { pbe: Record<string, unknown> }).pbe;
  const p12 = forge.pkcs12 as unknown as Record<string, unknown>;
  const pkcs5 = forge.pkcs5 as unknown as Record<string, unknown>;
  const originals = {
    fromDer: asn1.fromDer,
    pbeKey: pbe.generatePkcs12Key as (...args: unknown[]) => unknown,
    p12Key: p12.generateKey as (...args: unknown[]) => unknown,
    pbkdf2: pkcs5.pbkdf2,
  };

  // The PKCS#12 KDF (RFC 7292 appendix B): one chain of `iter` hashes per hash-sized block of output.
  const pkcs12Kdf =
    (original: (...args: unknown[]) => unknown) =>
    (...args: unknown[]): unknown => {
      const [, , , iter, n, md] = args as [
        unknown,
        unknown,
        unknown,
        number,
        number,
        { digestLength?: number }?,
      ];
      const size = md?.digestLength ?? 20;
      budget.charge(iter * Math.ceil(n / size) * pkcs12KdfWeight(size));
      return original(...args);
    };

  asn1.fromDer = ((bytes: string | Forge.util.ByteBuffer, options?: unknown) => {
    const tree = originals.fromDer.call(asn1, bytes, options as boolean);
    if (typeof bytes === "string") {
      rawByTree.set(tree, bytes);
      // A SafeContents just decrypted: its shrouded keys were out of sight until now. Refuse them all
      // before forge decrypts the first, if together they would go over the budget.
      const left = unpriced.get(bytes) ?? 0;
      if (left > 0) {
        unpriced.set(bytes, left - 1);
      } else {
        const work = safeContentsWork(asn1, tree);
        if (work) budget.preflight(work);
      }
    }
    return tree;
  }) as typeof asn1.fromDer;
  pbe.generatePkcs12Key = pkcs12Kdf(originals.pbeKey);
  p12.generateKey = pkcs12Kdf(originals.p12Key);
  pkcs5.pbkdf2 = (
    password: string | null,
    salt: string,
    iterations: number,
    keyLength: number,
    md?: unknown,
  ) => {
    const hash = hashOf(md);
    budget.charge(iterations * Math.ceil(keyLength / hash.size));
    const key = pbkdf2Sync(
      Buffer.from(password ?? "", "utf8"),
      Buffer.from(salt, "binary"),
      iterations,
      keyLength,
      hash.name,
    );
    return key.toString("binary");
  };
  try {
    return { result: run(), rawByTree };
  } finally {
    asn1.fromDer = originals.fromDer;
    pbe.generatePkcs12Key = originals.pbeKey;
    p12.generateKey = originals.p12Key;
    pkcs5.pbkdf2 = originals.pbkdf2;
  }
}
