import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { MessageChannel, Worker } from "node:worker_threads";
import { keepAliveUntilSettled } from "@certbound/core/credential-kit";

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
export function createInMemoryKeyProvider(): KeyProvider & {
  readonly exportable: true;
  /**
   * Starts generating the key of `identityKey` in the background (a worker thread that never keeps
   * the process alive), so that a first `getKey` finds it ready or under way. Fails nothing: if the
   * background generation fails, `getKey` generates the key itself.
   */
  prepare(identityKey: string): void;
  clear(): void;
} {
  const keys = new Map<string, Promise<ManagedIdentityKeyPair>>();
  const prepared = new Map<string, Promise<ManagedIdentityKeyPair>>();
  return {
    // The key is an ordinary in-process KeyObject: anything in the process can export it.
    exportable: true,
    getKey(identityKey) {
      let pending = keys.get(identityKey);
      if (!pending) {
        const early = prepared.get(identityKey);
        prepared.delete(identityKey);
        // Someone waits now: keep the process alive until the background key arrives.
        pending = early
          ? keepAliveUntilSettled(early).catch(() => generateRsa("rsa", { modulusLength: 2048 }))
          : generateRsa("rsa", { modulusLength: 2048 });
        // A failed generation is not remembered: the next call tries again.
        pending.catch(() => keys.delete(identityKey));
        keys.set(identityKey, pending);
      }
      return pending;
    },
    prepare(identityKey) {
      if (keys.has(identityKey) || prepared.has(identityKey)) return;
      const early = generateInBackground();
      // Unused, a failure is nobody's business; getKey falls back to generating the key itself.
      early.catch(() => {});
      prepared.set(identityKey, early);
    },
    clear() {
      keys.clear();
      prepared.clear();
    },
  };
}

// Runs in the worker: one RSA-2048 key, sent back as PKCS#8 DER over the port it was given.
const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { generateKeyPairSync } = require("node:crypto");
const { privateKey } = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs8", format: "der" },
  publicKeyEncoding: { type: "spki", format: "der" },
});
workerData.port.postMessage(privateKey, [privateKey.buffer]);
workerData.port.close();
`;

/**
 * An RSA-2048 key pair generated in a worker thread that is unref'd, as is the port its key comes
 * back on: an app that created a client and finished exits at once instead of waiting for a key it
 * never used (a `generateKeyPair` job in libuv's pool would hold the process until done). The key
 * stays in this process: the worker is a thread of it, and the DER buffer is transferred, not copied.
 */
function generateInBackground(): Promise<ManagedIdentityKeyPair> {
  return new Promise((resolve, reject) => {
    let worker: Worker;
    const { port1, port2 } = new MessageChannel();
    try {
      worker = new Worker(WORKER_SOURCE, {
        eval: true,
        // The app's loaders (--import tsx, --require hooks) have nothing to do in this worker.
        execArgv: [],
        workerData: { port: port2 },
        transferList: [port2],
      });
    } catch (error) {
      port1.close();
      reject(error);
      return;
    }
    const done = (error: unknown, key?: ManagedIdentityKeyPair) => {
      port1.close();
      if (key) resolve(key);
      else reject(error);
    };
    port1.on("message", (der: Uint8Array) => {
      try {
        const privateKey = createPrivateKey({ key: Buffer.from(der), format: "der", type: "pkcs8" });
        done(undefined, { privateKey, publicKey: createPublicKey(privateKey) });
      } catch (error) {
        done(error);
      }
    });
    worker.on("error", done);
    worker.on("exit", (code) => done(new Error(`key worker exited with code ${code}`)));
    worker.unref();
    port1.unref();
  });
}
