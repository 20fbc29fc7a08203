import type { CacheStore } from "./cache-store";
import { type Clock, systemClock } from "./clock";
import { invalidOptions } from "./errors";
import { LruMap } from "./lru-map";

/** Options of {@link createMemoryCacheStore}. */
export interface MemoryCacheStoreOptions {
  /** Most entries kept; the least recently used is evicted past it. @default 10000 */
  maxEntries?: number;
  /** The clock that `ttlMs` hints are measured on. @default systemClock */
  clock?: Clock | undefined;
}

/** The in-memory store: synchronous, so a cache hit never awaits. */
export interface MemoryCacheStore extends CacheStore {
  get(key: string): string | undefined;
  set(key: string, value: string, ttlMs?: number): void;
  delete(key: string): void;
  /** Number of entries held (expired ones included until they are read or evicted). */
  readonly size: number;
}

interface Slot {
  readonly value: string;
  /** Epoch milliseconds after which the value is gone; `Infinity` without a TTL. */
  readonly expiresAt: number;
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
  const lru = new LruMap<string, Slot>(maxEntries);
  return {
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
      });
    },
    delete: (key) => {
      lru.delete(key);
    },
    get size() {
      return lru.size;
    },
  };
}
