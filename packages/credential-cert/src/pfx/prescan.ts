// Reads the parts of a PFX that can be seen without a passphrase (RFC 7292: the version, the
// AuthenticatedSafe's ContentInfos, the MAC data, the unencrypted SafeContents) with node-forge's
// ASN.1 parser alone, before node-forge's PKCS#12 parser does any key derivation. It refuses what
// forge would not read, with a message that names it, and prices the key-derivation work the file
// declares (see work-budget.ts), so that a file asking for too much is refused before any of it.
//
// What it can see: the MAC's iteration count, every EncryptedData's encryption parameters, and the
// shrouded key bags of every unencrypted SafeContents. What it cannot see: bags inside an
// EncryptedData (their SafeContents is ciphertext until the passphrase has been used on it). Those
// are priced by the metered run (metered-forge.ts) the moment forge has decrypted them and before it
// decrypts any bag in them, and every key derivation is charged to the budget before it runs anyway.
import type * as Forge from "node-forge";
import { invalidPfx, unsupportedPfx } from "./errors";
import { MAX_ITERATIONS, MAX_SALT_BYTES, pkcs12KdfWeight } from "./limits";

type Asn1 = Forge.asn1.Asn1;
type ForgeAsn1 = typeof Forge.asn1;

const UNIVERSAL = 0x00;
const CONTEXT = 0x80;
const INTEGER = 2;
const OCTET_STRING = 4;
const OID_TAG = 6;
const SEQUENCE = 16;

const OID = {
  data: "1.2.840.113549.1.7.1",
  signedData: "1.2.840.113549.1.7.2",
  envelopedData: "1.2.840.113549.1.7.3",
  encryptedData: "1.2.840.113549.1.7.6",
  pkcs8ShroudedKeyBag: "1.2.840.113549.1.12.10.1.2",
  pbes2: "1.2.840.113549.1.5.13",
  pbkdf2: "1.2.840.113549.1.5.12",
  pbmac1: "1.2.840.113549.1.5.14",
} as const;

/** PKCS#12 bag types all start so; a SafeContents is a SEQUENCE of bags with these OIDs. */
const BAG_OID_PREFIX = "1.2.840.113549.1.12.10.1.";

/** MAC digests node-forge verifies, with their output size (the MAC key is one block of it). */
const MAC_DIGESTS: Readonly<Record<string, number>> = {
  "1.3.14.3.2.26": 20, // SHA-1
  "2.16.840.1.101.3.4.2.1": 32, // SHA-256
  "2.16.840.1.101.3.4.2.2": 48, // SHA-384
  "2.16.840.1.101.3.4.2.3": 64, // SHA-512
};

/** PBKDF2 PRFs node-forge maps (HMAC with ...), with the hash's output size. */
const PRF_SIZES: Readonly<Record<string, number>> = {
  "1.2.840.113549.2.7": 20,
  "1.2.840.113549.2.9": 32,
  "1.2.840.113549.2.10": 48,
  "1.2.840.113549.2.11": 64,
};

/** PBES2 ciphers node-forge decrypts, with their key length. */
const PBES2_CIPHERS: Readonly<Record<string, number>> = {
  "2.16.840.1.101.3.4.1.2": 16, // AES-128-CBC
  "2.16.840.1.101.3.4.1.22": 24, // AES-192-CBC
  "2.16.840.1.101.3.4.1.42": 32, // AES-256-CBC
  "1.2.840.113549.3.7": 24, // DES-EDE3-CBC
};

/** The PKCS#12 PBE schemes node-forge decrypts, with their key length (the IV is 8 bytes more). */
const PKCS12_PBE: Readonly<Record<string, number>> = {
  "1.2.840.113549.1.12.1.3": 24, // pbeWithSHAAnd3-KeyTripleDES-CBC
  "1.2.840.113549.1.12.1.6": 5, // pbeWithSHAAnd40BitRC2-CBC
};

/** The ones it does not, named for the error message. */
const PKCS12_PBE_UNREAD: Readonly<Record<string, string>> = {
  "1.2.840.113549.1.12.1.1": "RC4 encryption (pbeWithSHAAnd128BitRC4)",
  "1.2.840.113549.1.12.1.2": "RC4 encryption (pbeWithSHAAnd40BitRC4)",
  "1.2.840.113549.1.12.1.4": "2-key triple DES (pbeWithSHAAnd2-KeyTripleDES-CBC)",
  "1.2.840.113549.1.12.1.5": "128-bit RC2 (pbeWithSHAAnd128BitRC2-CBC)",
};

// The PKCS#12 KDF's SHA-1 gives 20 bytes a run.
const SHA1_SIZE = 20;

/**
 * What the visible parts of a PFX declare.
 * @internal
 * @example
 * ```ts
 * const { declared, hasMac }: Prescan = prescanPfx(forge.asn1, tree);
 * ```
 */
export interface Prescan {
  /** Work of the MAC (one try) plus every visible encrypted part; see work-budget.ts. */
  readonly declared: number;
  readonly hasMac: boolean;
  /** Whether anything in the file is encrypted (without a MAC, a wrong passphrase shows there). */
  readonly hasEncryption: boolean;
  /**
   * The unencrypted SafeContents as forge will parse them, once each: priced here, not again when
   * forge parses them (a copy of one inside encrypted contents is priced when it appears).
   */
  readonly visibleSafeContents: readonly string[];
}

/** A reader over forge's ASN.1 tree that throws `invalid_certificate` naming the part. */
function reader(asn1: ForgeAsn1) {
  const children = (node: Asn1 | undefined, what: string, min = 1): Asn1[] => {
    if (!node || node.tagClass !== UNIVERSAL || node.type !== SEQUENCE || !Array.isArray(node.value)) {
      throw invalidPfx(`${what} is not a SEQUENCE`);
    }
    if (node.value.length < min) throw invalidPfx(`${what} is incomplete`);
    return node.value;
  };
  const oid = (node: Asn1 | undefined, what: string): string => {
    if (!node || node.tagClass !== UNIVERSAL || node.type !== OID_TAG || typeof node.value !== "string") {
      throw invalidPfx(`${what} is not an object identifier`);
    }
    return asn1.derToOid(node.value);
  };
  const octets = (node: Asn1 | undefined, what: string, tagClass = UNIVERSAL): string => {
    if (!node || node.tagClass !== tagClass || (tagClass === UNIVERSAL && node.type !== OCTET_STRING)) {
      throw invalidPfx(`${what} is not an OCTET STRING`);
    }
    // BER lets an OCTET STRING come in chunks (Windows and Java write them so).
    if (Array.isArray(node.value)) return node.value.map((chunk) => octets(chunk, what)).join("");
    return node.value;
  };
  const explicit0 = (node: Asn1 | undefined, what: string): Asn1 => {
    if (!node || node.tagClass !== CONTEXT || node.type !== 0 || !Array.isArray(node.value)) {
      throw invalidPfx(`${what} is not tagged [0]`);
    }
    const [inner] = node.value;
    if (!inner || node.value.length !== 1) throw invalidPfx(`${what} is not tagged [0]`);
    return inner;
  };
  const smallInteger = (node: Asn1 | undefined, what: string): number => {
    if (!node || node.tagClass !== UNIVERSAL || node.type !== INTEGER || typeof node.value !== "string") {
      throw invalidPfx(`${what} is not an INTEGER`);
    }
    const bytes = node.value;
    if (bytes.length === 0) throw invalidPfx(`${what} is empty`);
    if (bytes.charCodeAt(0) & 0x80) return -1;
    // Larger than 2^48 is absurd for any field read here; report it as the huge number it is.
    if (bytes.replace(/^\0+/, "").length > 6) return Number.MAX_SAFE_INTEGER;
    let value = 0;
    for (let i = 0; i < bytes.length; i++) value = value * 256 + bytes.charCodeAt(i);
    return value;
  };
  return { children, oid, octets, explicit0, smallInteger };
}

type Reader = ReturnType<typeof reader>;

function checkedIterations(r: Reader, node: Asn1 | undefined, what: string): number {
  const iterations = r.smallInteger(node, `${what}'s iteration count`);
  if (iterations < 1 || iterations > MAX_ITERATIONS) {
    throw invalidPfx(`${what} asks for ${iterations} iterations (1 to ${MAX_ITERATIONS} are accepted)`);
  }
  return iterations;
}

function checkedSalt(r: Reader, node: Asn1 | undefined, what: string): void {
  if (r.octets(node, `${what}'s salt`).length > MAX_SALT_BYTES)
    throw invalidPfx(`${what} has an oversized salt`);
}

/**
 * The work one try of a decryption costs, read from its AlgorithmIdentifier; refuses an algorithm
 * node-forge does not read.
 */
function decryptionCost(r: Reader, algorithm: Asn1 | undefined, what: string): number {
  const [idNode, params] = r.children(algorithm, `${what}'s encryption`);
  const id = r.oid(idNode, `${what}'s encryption`);
  if (id === OID.pbes2) {
    const [kdf, scheme] = r.children(params, `${what}'s PBES2 parameters`, 2);
    const [kdfId, kdfParams] = r.children(kdf, `${what}'s key derivation`);
    const kdfOid = r.oid(kdfId, `${what}'s key derivation`);
    if (kdfOid !== OID.pbkdf2) throw unsupportedPfx(`the PBES2 key derivation ${kdfOid}`);
    const [salt, iterationsNode, ...rest] = r.children(kdfParams, `${what}'s PBKDF2 parameters`, 2);
    if (salt?.type === SEQUENCE) throw unsupportedPfx("a PBKDF2 salt from another source");
    checkedSalt(r, salt, what);
    const iterations = checkedIterations(r, iterationsNode, what);
    let prfSize = SHA1_SIZE;
    const prf = rest.find((node) => node.type === SEQUENCE);
    if (prf) {
      const prfOid = r.oid(r.children(prf, `${what}'s PRF`)[0], `${what}'s PRF`);
      const size = PRF_SIZES[prfOid];
      if (size === undefined) throw unsupportedPfx(`the PBKDF2 PRF ${prfOid}`);
      prfSize = size;
    }
    const cipherOid = r.oid(r.children(scheme, `${what}'s cipher`)[0], `${what}'s cipher`);
    const keyLength = PBES2_CIPHERS[cipherOid];
    if (keyLength === undefined) throw unsupportedPfx(`the PBES2 cipher ${cipherOid}`);
    // PBKDF2 runs its chain once per PRF-sized block of the key.
    return iterations * Math.ceil(keyLength / prfSize);
  }
  const keyLength = PKCS12_PBE[id];
  if (keyLength !== undefined) {
    const [salt, iterationsNode] = r.children(params, `${what}'s parameters`, 2);
    checkedSalt(r, salt, what);
    // The PKCS#12 KDF runs once per 20 bytes of key, and once for the 8-byte IV.
    return checkedIterations(r, iterationsNode, what) * (Math.ceil(keyLength / SHA1_SIZE) + 1);
  }
  throw unsupportedPfx(PKCS12_PBE_UNREAD[id] ?? `the encryption algorithm ${id}`);
}

/**
 * The work of the shrouded key bags of one SafeContents (its other bags cost nothing). Returns
 * `undefined` when `tree` is not shaped like a SafeContents.
 * @internal
 * @example
 * ```ts
 * const work = safeContentsWork(forge.asn1, forge.asn1.fromDer(bytes)); // e.g. 2048
 * ```
 */
export function safeContentsWork(asn1: ForgeAsn1, tree: Asn1): number | undefined {
  const r = reader(asn1);
  if (tree.tagClass !== UNIVERSAL || tree.type !== SEQUENCE || !Array.isArray(tree.value)) return undefined;
  let work = 0;
  for (const bag of tree.value) {
    let bagId: string;
    try {
      bagId = r.oid(r.children(bag, "a SafeBag", 2)[0], "a SafeBag's type");
    } catch {
      return undefined;
    }
    if (!bagId.startsWith(BAG_OID_PREFIX)) return undefined;
    if (bagId !== OID.pkcs8ShroudedKeyBag) continue;
    const value = r.explicit0(r.children(bag, "a SafeBag", 2)[1], "a shrouded key bag");
    work += decryptionCost(r, r.children(value, "a shrouded key", 2)[0], "a shrouded key");
  }
  return work;
}

// Replaces every chunked (constructed) OCTET STRING with the one it stands for. node-forge joins the
// chunks of the contents itself, but not of the MAC's digest and salt.
function joinChunks(r: Reader, node: Asn1): void {
  if (!Array.isArray(node.value)) return;
  if (node.tagClass === UNIVERSAL && node.type === OCTET_STRING) {
    node.value = r.octets(node, "an OCTET STRING");
    node.constructed = false;
    node.composed = false;
    return;
  }
  for (const child of node.value) joinChunks(r, child);
}

/**
 * Checks the visible structure of a PFX (`pfx`, forge's ASN.1 tree of the whole file, whose chunked
 * OCTET STRINGs it joins in place) and prices the key-derivation work it declares.
 * Throws `invalid_certificate` for a file node-forge would not read.
 * @internal
 * @example
 * ```ts
 * const { declared } = prescanPfx(forge.asn1, forge.asn1.fromDer(binary));
 * ```
 */
export function prescanPfx(asn1: ForgeAsn1, pfx: Asn1): Prescan {
  const r = reader(asn1);
  joinChunks(r, pfx);
  const [versionNode, authSafeInfo, macData, ...extra] = r.children(pfx, "the PFX", 2);
  if (extra.length > 0) throw invalidPfx("the PFX has extra fields");
  if (r.smallInteger(versionNode, "the PFX version") !== 3) throw invalidPfx("the PFX version is not 3");
  const [typeNode, contentNode] = r.children(authSafeInfo, "the PFX contents", 2);
  const type = r.oid(typeNode, "the PFX contents' type");
  if (type === OID.signedData) throw unsupportedPfx("public-key integrity (signedData)");
  if (type !== OID.data) throw invalidPfx(`the PFX contents have the unknown type ${type}`);
  const authSafe = r.octets(r.explicit0(contentNode, "the PFX contents"), "the PFX contents");

  let declared = 0;
  if (macData) {
    const [digestInfo, salt, iterations, ...rest] = r.children(macData, "the MAC data", 2);
    if (rest.length > 0) throw invalidPfx("the MAC data has extra fields");
    const [algorithm, digest] = r.children(digestInfo, "the MAC", 2);
    const digestOid = r.oid(r.children(algorithm, "the MAC digest")[0], "the MAC digest");
    if (digestOid === OID.pbmac1) throw unsupportedPfx("a PBMAC1 integrity check (RFC 9579)");
    const size = MAC_DIGESTS[digestOid];
    if (size === undefined) throw unsupportedPfx(`the MAC digest ${digestOid}`);
    if (r.octets(digest, "the MAC value").length !== size)
      throw invalidPfx("the MAC value has the wrong size");
    if (r.octets(salt, "the MAC salt").length > MAX_SALT_BYTES) throw invalidPfx("the MAC salt is oversized");
    declared += (iterations ? checkedIterations(r, iterations, "the MAC") : 1) * pkcs12KdfWeight(size);
  }

  let authSafeTree: Asn1;
  try {
    authSafeTree = asn1.fromDer(authSafe, true);
  } catch {
    throw invalidPfx("the AuthenticatedSafe does not parse");
  }
  const infos = r.children(authSafeTree, "the AuthenticatedSafe", 0);
  let hasEncryption = false;
  const visibleSafeContents: string[] = [];
  for (const info of infos) {
    const [infoType, content] = r.children(info, "a ContentInfo", 2);
    const contentType = r.oid(infoType, "a ContentInfo's type");
    const inner = r.explicit0(content, "a ContentInfo's content");
    if (contentType === OID.data) {
      const bytes = r.octets(inner, "a SafeContents");
      let tree: Asn1;
      try {
        tree = asn1.fromDer(bytes, true);
      } catch {
        throw invalidPfx("a SafeContents does not parse");
      }
      const work = safeContentsWork(asn1, tree);
      if (work === undefined) throw invalidPfx("a SafeContents is not a SEQUENCE of bags");
      if (work > 0) hasEncryption = true;
      declared += work;
      visibleSafeContents.push(bytes);
    } else if (contentType === OID.encryptedData) {
      const [, encryptedContentInfo] = r.children(inner, "an EncryptedData", 2);
      const [, algorithm] = r.children(encryptedContentInfo, "an EncryptedContentInfo", 2);
      declared += decryptionCost(r, algorithm, "encrypted contents");
      hasEncryption = true;
    } else if (contentType === OID.envelopedData) {
      throw unsupportedPfx("public-key encrypted contents (envelopedData)");
    } else {
      throw invalidPfx(`a ContentInfo has the unknown type ${contentType}`);
    }
  }
  return { declared, hasMac: macData !== undefined, hasEncryption, visibleSafeContents };
}
