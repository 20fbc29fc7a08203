import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { invalidOptions } from "@certbound/core/credential-kit";

const PKG = "@certbound/cache-redis";
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;
// Values this package writes start with a version: a value without it (another writer, a
// corrupted or planted value) is a miss, never served.
const SEALED = "cb1.";
const PLAIN = "cbp.";

/**
 * One AES-256 key of {@link RedisCacheEncryption}: 32 random bytes and the id written beside each
 * value it encrypts (so that a value is decrypted with the key it was written with).
 *
 * @public
 * @example
 * ```ts
 * const key: EncryptionKey = { id: "2026-12", key: Buffer.from(process.env.CACHE_KEY_2026_12!, "base64") };
 * ```
 */
export interface EncryptionKey {
  /** 1 to 32 characters from `A-Z a-z 0-9 _ -`; stored in clear beside each value. */
  readonly id: string;
  /** 32 bytes (AES-256), from a secret store; never derived from a password. */
  readonly key: Uint8Array;
}

/**
 * Encryption at rest of {@link RedisCacheStoreOptions}. The first key encrypts every new value;
 * every key listed decrypts the values written with it. To rotate: put the new key first and keep
 * the old one after it until the old values have expired (at most a token's lifetime).
 *
 * @public
 * @example
 * ```ts
 * const encryption: RedisCacheEncryption = { keys: [newKey, oldKey], nameKey };
 * ```
 */
export interface RedisCacheEncryption {
  readonly keys: readonly EncryptionKey[];
  /**
   * 32 bytes that Redis key names are an HMAC-SHA-256 of. Pass a key that does not change when
   * the encryption keys rotate, so that a rotation does not change the names (and every process
   * shares the entries throughout it).
   * @default derived (HKDF-SHA-256) from the first of `keys`: rotating it starts new names
   */
  readonly nameKey?: Uint8Array | undefined;
}

/**
 * Seals values (AES-256-GCM, the Redis key name as associated data, so a value moved to another
 * name does not open) and names keys (keyed hashes: no tenant, client or scope in clear).
 *
 * @internal
 * @example
 * ```ts
 * const cipher = createEntryCipher({ keys: [{ id: "k1", key }] });
 * ```
 */
export interface EntryCipher {
  /** The Redis key name of a cache key, before the prefix and hash-tag braces. */
  name(key: string): string;
  seal(name: string, value: string): string;
  /** `undefined` when the value is not one this package sealed with a key it holds. */
  open(name: string, raw: string): string | undefined;
}

/**
 * Builds the {@link EntryCipher} of the options, or throws `invalid_options` saying how to fix them.
 *
 * @internal
 * @example
 * ```ts
 * const cipher = createEntryCipher("disabled");
 * ```
 */
export function createEntryCipher(encryption: RedisCacheEncryption | "disabled" | undefined): EntryCipher {
  if (encryption === undefined) {
    throw invalidOptions(
      PKG,
      "`encryption` is required: pass `{ keys: [{ id, key }] }` with a 32-byte key from your secret store, " +
        'or `encryption: "disabled"` to keep access tokens in Redis in clear (only where Redis itself is as protected as the tokens).',
    );
  }
  if (encryption === "disabled") {
    // Without a key the names are plain hashes: no tenant or scope in clear, but guessable.
    return {
      name: (key) => createHash("sha256").update(key).digest("base64url"),
      seal: (_name, value) => PLAIN + value,
      open: (_name, raw) => (raw.startsWith(PLAIN) ? raw.slice(PLAIN.length) : undefined),
    };
  }
  if (typeof encryption !== "object" || encryption === null || !Array.isArray(encryption.keys)) {
    throw invalidOptions(PKG, '`encryption` must be `{ keys: [{ id, key }] }` or "disabled".');
  }
  if (encryption.keys.length === 0) {
    throw invalidOptions(PKG, "`encryption.keys` is empty: pass at least one `{ id, key }` (32 bytes).");
  }
  const keys = new Map<string, Buffer>();
  for (const [i, entry] of encryption.keys.entries()) {
    if (typeof entry?.id !== "string" || !KEY_ID.test(entry.id)) {
      throw invalidOptions(
        PKG,
        `\`encryption.keys[${i}].id\` must be 1 to 32 characters from A-Z a-z 0-9 _ - (it is stored in clear).`,
      );
    }
    if (keys.has(entry.id))
      throw invalidOptions(PKG, `\`encryption.keys\` lists the id "${entry.id}" twice.`);
    checkKeyBytes(entry.key, `\`encryption.keys[${i}].key\``);
    keys.set(entry.id, Buffer.from(entry.key));
  }
  const current = encryption.keys[0] as EncryptionKey;
  const currentKey = keys.get(current.id) as Buffer;
  const explicitName = encryption.nameKey;
  if (explicitName !== undefined) checkKeyBytes(explicitName, "`encryption.nameKey`");
  const naming =
    explicitName !== undefined
      ? Buffer.from(explicitName)
      : Buffer.from(hkdfSync("sha256", currentKey, Buffer.alloc(0), "certbound cache-redis key names", 32));
  return {
    name: (key) => createHmac("sha256", naming).update(key).digest("base64url"),
    seal(name, value) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", currentKey, iv);
      cipher.setAAD(Buffer.from(name));
      const body = Buffer.concat([cipher.update(value, "utf8"), cipher.final(), cipher.getAuthTag()]);
      return `${SEALED}${current.id}.${iv.toString("base64url")}.${body.toString("base64url")}`;
    },
    open(name, raw) {
      // `cb1.<key id>.<iv>.<body>`, read by position: a Redis-level hit pays this on every read,
      // and splitting into an array of copies cost more than the indexes.
      if (!raw.startsWith(SEALED)) return undefined;
      const idEnd = raw.indexOf(".", SEALED.length);
      const ivEnd = idEnd < 0 ? -1 : raw.indexOf(".", idEnd + 1);
      if (ivEnd < 0 || raw.indexOf(".", ivEnd + 1) >= 0) return undefined;
      const key = keys.get(raw.slice(SEALED.length, idEnd));
      if (key === undefined) return undefined;
      const ivBytes = Buffer.from(raw.slice(idEnd + 1, ivEnd), "base64url");
      const bytes = Buffer.from(raw.slice(ivEnd + 1), "base64url");
      if (ivBytes.length !== IV_BYTES || bytes.length < TAG_BYTES) return undefined;
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, ivBytes, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(name));
        decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
        const plain = decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES));
        // final() checks the tag (and throws on a mismatch); for GCM it yields no further bytes.
        decipher.final();
        return plain.toString("utf8");
      } catch {
        // A wrong key or a tampered value: not ours to serve.
        return undefined;
      }
    },
  };
}

function checkKeyBytes(value: unknown, what: string): void {
  if (!(value instanceof Uint8Array) || value.length !== 32) {
    throw invalidOptions(
      PKG,
      `${what} must be 32 bytes (a Uint8Array or Buffer), e.g. Buffer.from(secret, "base64") of \`openssl rand -base64 32\`.`,
    );
  }
}
