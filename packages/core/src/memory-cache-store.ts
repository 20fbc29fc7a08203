import type { CacheEntry, CacheStore } from "./cache-store";
import { invalidOptions } from "./errors";
import { LruMap } from "./lru-map";

/** Options of {@link createMemoryCacheStore}. */
export interface MemoryCacheStoreOptions {
  /** Most entries kept; the least recently used is evicted past it. @default 10000 */
  maxEntries?: number;
}

/** The in-memory store: synchronous, so a cache hit never awaits. */
export interface MemoryCacheStore extends CacheStore {
  get(key: string): CacheEntry | undefined;
  set(key: string, entry: CacheEntry): void;
  delete(key: string): void;
  /** Number of entries held. */
  readonly size: number;
}

/**
 * The default token cache: in memory, bounded LRU, synchronous (a hit never awaits).
 *
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
  const lru = new LruMap<string, CacheEntry>(maxEntries);
  return {
    get: (key) => lru.get(key),
    set: (key, entry) => lru.set(key, entry),
    delete: (key) => {
      lru.delete(key);
    },
    get size() {
      return lru.size;
    },
  };
}
