import { type CacheStore, type Clock, systemClock } from "@certbound/core";

/**
 * Options of {@link jsonCacheStore}.
 *
 * @public
 * @example
 * ```ts
 * const store = jsonCacheStore({ clock: createTestClock() });
 * ```
 */
export interface JsonCacheStoreOptions {
  /** The clock `ttlMs` is measured on. @default systemClock */
  readonly clock?: Clock | undefined;
}

/**
 * A {@link CacheStore} that keeps one JSON document, as a file or a Redis value would: a reference
 * for store authors, and a store for tests. Asynchronous like a remote store; every read and write
 * goes through `JSON.stringify`/`JSON.parse`, so anything that does not survive JSON (a `KeyObject`
 * becomes `{}`) would show. {@link JsonCacheStore.document} is the whole content, to inspect.
 *
 * @public
 * @example
 * ```ts
 * const cache = jsonCacheStore();
 * const app = createConfidentialClient({ clientId, authority, certificate, cache });
 * ```
 */
export function jsonCacheStore(options: JsonCacheStoreOptions = {}): JsonCacheStore {
  const clock = options.clock ?? systemClock;
  // key -> { value, expiresAt? }, kept serialised between calls like a file on disk.
  let document = "{}";
  const read = (): Record<string, { value: string; expiresAt?: number }> =>
    JSON.parse(document) as Record<string, { value: string; expiresAt?: number }>;
  return {
    async get(key) {
      await Promise.resolve();
      const entries = read();
      if (!Object.hasOwn(entries, key)) return undefined;
      const slot = entries[key] as { value: string; expiresAt?: number };
      if (slot.expiresAt !== undefined && clock.now() >= slot.expiresAt) return undefined;
      return slot.value;
    },
    async set(key, value, ttlMs) {
      await Promise.resolve();
      const entries = read();
      entries[key] = ttlMs === undefined ? { value } : { value, expiresAt: clock.now() + ttlMs };
      document = JSON.stringify(entries);
    },
    async delete(key) {
      await Promise.resolve();
      const entries = read();
      delete entries[key];
      document = JSON.stringify(entries);
    },
    get document() {
      return document;
    },
  };
}

/**
 * What {@link jsonCacheStore} returns: an asynchronous {@link CacheStore} and its JSON document.
 *
 * @public
 * @example
 * ```ts
 * expect(jsonCacheStore().document).toBe("{}");
 * ```
 */
export interface JsonCacheStore extends CacheStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Everything held (expired entries included), as the JSON text a file would contain. */
  readonly document: string;
}
