/**
 * The cache seam for stores outside the token manager (Redis, a file, a shared memory store):
 * synchronous or asynchronous, holding opaque strings. The token manager serialises entries
 * itself, and a serialised entry holds no key material: the access token, its times, scopes,
 * tenant, token endpoint and, for a PoP token, only the binding certificate's `x5t#S256`. On read,
 * the credential that owns that certificate resolves it; an entry whose certificate it no longer
 * holds is a miss. Keys and values are arbitrary Unicode strings (keys contain `\u0000`): store
 * them exactly. Without a store, the token manager keeps entries in process (no serialisation).
 *
 * Check your store with `testCacheStore` from `@certbound/testing`.
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
  set(key: string, value: string, ttlMs?: number, options?: CacheWriteOptions): void | Promise<void>;
  delete?(key: string): void | Promise<void>;
  /**
   * Optional: coordinates the network acquisition of `key` between the processes sharing this
   * store, so that a cold fleet makes one token request instead of one per process. The token
   * manager calls it on a miss (not for `forceRefresh` or claims requests), inside its own
   * single-flight, with `acquire`, which reads the key again (another process may have stored it
   * and released its lease just before this one took it) and on a miss fetches the token and
   * `set`s it. The store either calls `acquire` once and settles as it does (e.g. holding a Redis
   * lease), or waits, without calling it, until another process has stored the entry or given up,
   * and resolves: the token manager then reads the key again and acquires itself on a miss. The
   * wait must be bounded (a holder that dies loses its lease) and end when `signal` aborts. A
   * store that rejects without calling `acquire` is logged and bypassed like a failing `get`.
   */
  coordinate?(key: string, acquire: () => Promise<void>, signal: AbortSignal): Promise<void>;
}

/**
 * What the token manager tells a {@link CacheStore} about an entry it writes.
 *
 * @public
 * @example
 * ```ts
 * const store: CacheStore = { get, set: (k, v, ttlMs, options) => (options?.shareable === false ? local.set(k, v) : shared.set(k, v)) };
 * ```
 */
export interface CacheWriteOptions {
  /**
   * `false`: the token is bound to key material that lives in this process only (a managed
   * identity's mTLS PoP token): a store shared between processes must keep the entry in this
   * process and never send it elsewhere. `true`: any process holding the same credential may use it.
   */
  readonly shareable: boolean;
}
