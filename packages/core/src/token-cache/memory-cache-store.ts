import { invalidOptions } from "../protocol/errors";
import type { CacheStore } from "../seams/cache-store";
import { type Clock, systemClock } from "../seams/clock";
import type { DecodedCacheEntry } from "./cache-entry-codec";
import { LruMap } from "./lru-map";

/**
 * Options of {@link createMemoryCacheStore}.
 *
 * @public
 */
export interface MemoryCacheStoreOptions {
  /** Most entries kept; the least recently used is evicted past it. @default 10000 */
  maxEntries?: number;
  /** The clock that `ttlMs` hints are measured on. @default systemClock */
  clock?: Clock | undefined;
}

/**
 * The in-memory store: synchronous, so a cache hit never awaits.
 *
 * @public
 */
export interface MemoryCacheStore extends CacheStore {
  get(key: string): string | undefined;
  set(key: string, value: string, ttlMs?: number): void;
  delete(key: string): void;
  /** Number of entries held (expired ones included until they are read or evicted). */
  readonly size: number;
}

/**
 * One value of a memory store (or of a store's in-process level, see {@link provideCacheStoreSlots}).
 * The {@link DecodedCacheEntry} fields are the token manager's: what it made of `value`, kept with
 * the value so that a hit neither parses nor looks anything up twice.
 *
 * @internal
 * @example
 * ```ts
 * const slot = memoryStoreSlots(store)?.(key);
 * ```
 */
export interface MemoryStoreSlot extends DecodedCacheEntry {
  /** Epoch milliseconds (on the store's clock) after which the value is gone; `Infinity` without a TTL. */
  readonly expiresAt: number;
}

/**
 * How the token manager reads a store's slots directly (see {@link provideCacheStoreSlots}).
 *
 * @internal
 * @example
 * ```ts
 * const access: CacheStoreSlots = { read: (key) => lru.get(key), complete: true };
 * ```
 */
export interface CacheStoreSlots {
  /** The key's slot, without checking its TTL (the token manager checks the token's expiry). */
  readonly read: (key: string) => MemoryStoreSlot | undefined;
  /**
   * `true` when the slots are the whole store (no slot: no value). `false` for a level in front of
   * another one (Redis): no slot, or a slot whose token is no longer servable, is then asked of
   * the store's `get`, which may find a newer value elsewhere.
   */
  readonly complete: boolean;
}

// The slot readers of stores, for the token manager's fast path.
const slotReaders = new WeakMap<object, CacheStoreSlots>();

/**
 * Lets the token manager read a store's in-process slots directly, so that a hit in them costs
 * what a hit in the memory store costs: one lookup, no parsing, no clock reading. For store
 * packages (`@certbound/cache-redis` uses it for its local level); a store that provides nothing
 * is read through `get`, as any {@link CacheStore}.
 *
 * @internal
 * @example
 * ```ts
 * provideCacheStoreSlots(store, { read: (key) => local.slot(key), complete: false });
 * ```
 */
export function provideCacheStoreSlots(store: CacheStore, slots: CacheStoreSlots): void {
  slotReaders.set(store, slots);
}

/**
 * The slot access a store provided (a store made by {@link createMemoryCacheStore} always does),
 * else `undefined`.
 *
 * @internal
 * @example
 * ```ts
 * const slots = memoryStoreSlots(options.cache);
 * ```
 */
export function memoryStoreSlots(store: object): CacheStoreSlots | undefined {
  return slotReaders.get(store);
}

/**
 * A string store in memory: bounded LRU, synchronous, honouring `ttlMs`. Share one between
 * several clients of the same credential; a client without a `cache` option keeps its tokens in
 * process already (faster: nothing is serialised), so pass this only to share or to bound.
 *
 * @public
 * @example
 * ```ts
 * const cache = createMemoryCacheStore({ maxEntries: 50_000 });
 * const app = createConfidentialClient({ clientId, authority, certificate, cache });
 * ```
 */
export function createMemoryCacheStore(options: MemoryCacheStoreOptions = {}): MemoryCacheStore {
  const maxEntries = options.maxEntries ?? 10_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw invalidOptions(
      "@certbound/core",
      `maxEntries must be a positive integer, got ${String(maxEntries)}.`,
    );
  }
  const clock = options.clock ?? systemClock;
  const lru = new LruMap<string, MemoryStoreSlot>(maxEntries);
  const store: MemoryCacheStore = {
    get: (key) => {
      const slot = lru.get(key);
      if (slot === undefined) return undefined;
      if (slot.expiresAt !== Number.POSITIVE_INFINITY && clock.now() >= slot.expiresAt) {
        lru.delete(key);
        return undefined;
      }
      return slot.value;
    },
    set: (key, value, ttlMs) => {
      lru.set(key, {
        value,
        expiresAt: ttlMs === undefined ? Number.POSITIVE_INFINITY : clock.now() + ttlMs,
        stored: undefined,
        certificate: undefined,
        entry: undefined,
      });
    },
    delete: (key) => {
      lru.delete(key);
    },
    get size() {
      return lru.size;
    },
  };
  provideCacheStoreSlots(store, { read: (key) => lru.get(key), complete: true });
  return store;
}
