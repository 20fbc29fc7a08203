import { generateKeyPair, type KeyObject } from "node:crypto";
import { promisify } from "node:util";

const generateRsa = promisify(generateKeyPair);

/**
 * A key pair for an IMDS v2 binding certificate.
 *
 * @public
 * @example
 * ```ts
 * const pair: ManagedIdentityKeyPair = generateKeyPairSync("rsa", { modulusLength: 2048 });
 * ```
 */
export interface ManagedIdentityKeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/**
 * Creates or loads the RSA key that IMDS v2 certifies and that the mTLS handshakes use. The default
 * keeps an in-process `node:crypto` key; plug in your own to load a key from a hardware-backed
 * store, as long as it can be handed to Node's TLS as a `KeyObject`.
 *
 * The key must be RSA (2048 bits or more): the certificate request is signed with RSASSA-PSS.
 *
 * @public
 * @example
 * ```ts
 * const keyProvider: KeyProvider = {
 *   async getKey(identityKey) {
 *     const privateKey = createPrivateKey(await loadFromMyStore(identityKey));
 *     return { privateKey, publicKey: createPublicKey(privateKey) };
 *   },
 * };
 * const client = createManagedIdentityClient({ transport, keyProvider });
 * ```
 */
export interface KeyProvider {
  /**
   * Whether the private key can be exported from where it lives. An in-process `node:crypto` key
   * can (the default provider says `true`); a key held by a TPM or a platform key store usually
   * cannot. It is handed to the attestation provider, which may need to know. @default true
   */
  readonly exportable?: boolean | undefined;
  /**
   * Returns the key pair for one identity (`"system"`, `"clientId:<id>"`, `"objectId:<id>"` or
   * `"resourceId:<id>"`). Called for every certificate minted; return the same key each time
   * unless you mean to rotate it.
   */
  getKey(identityKey: string): Promise<ManagedIdentityKeyPair>;
}

/**
 * The default {@link KeyProvider}: an RSA-2048 key per identity, generated once (off the main
 * thread) on first use and kept in memory only. Nothing is written to disk, so a restarted process
 * mints a new certificate with a new key, which is what IMDS expects.
 *
 * @public
 * @example
 * ```ts
 * const client = createManagedIdentityClient({ transport, keyProvider: createInMemoryKeyProvider() });
 * ```
 */
export function createInMemoryKeyProvider(): KeyProvider & { readonly exportable: true; clear(): void } {
  const keys = new Map<string, Promise<ManagedIdentityKeyPair>>();
  return {
    // The key is an ordinary in-process KeyObject: anything in the process can export it.
    exportable: true,
    getKey(identityKey) {
      let pending = keys.get(identityKey);
      if (!pending) {
        pending = generateRsa("rsa", { modulusLength: 2048 });
        // A failed generation is not remembered: the next call tries again.
        pending.catch(() => keys.delete(identityKey));
        keys.set(identityKey, pending);
      }
      return pending;
    },
    clear() {
      keys.clear();
    },
  };
}
