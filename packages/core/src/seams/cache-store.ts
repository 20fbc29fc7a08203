/**
 * The cache seam for stores outside the token manager (Redis, a file, a shared memory store):
 * synchronous or asynchronous, holding opaque strings. The token manager serialises entries
 * itself, and a serialised entry holds no key material: the access token, its times, scopes,
 * tenant, token endpoint and, for a PoP token, only the binding certificate's `x5t#S256`. On read,
 * the credential that owns that certificate resolves it; an entry whose certificate it no longer
 * holds is a miss. Keys and values are arbitrary Unicode strings (keys contain `\u0000`): store
 * them exactly. Without a store, the token manager keeps entries in process (no serialisation).
 *
 * Check your store with `testCacheStore` from `@certbound/core/testing`.
 *
 * Breaking change from 0.x: `get`/`set` used to take and return entry objects.
 *
 * @public
 * @example
 * ```ts
 * const map = new Map<string, string>();
 * const store: CacheStore = { get: (k) => map.get(k), set: (k, v) => void map.set(k, v), delete: (k) => void map.delete(k) };
 * ```
 */
export interface CacheStore {
  /** The value last set under `key`, or `undefined` (never set, deleted, expired or evicted). */
  get(key: string): string | undefined | Promise<string | undefined>;
  /**
   * Keeps `value` under `key`, replacing any value there. `ttlMs` (a whole number from 1 to
   * 2147483647) is how long the token stays servable: a store may drop the entry after it (e.g.
   * Redis `SET key value PX ttlMs`), and should not keep it much longer. The token manager never
   * serves an expired token, whether or not the store honours the hint.
   */
  set(key: string, value: string, ttlMs?: number): void | Promise<void>;
  delete?(key: string): void | Promise<void>;
}
