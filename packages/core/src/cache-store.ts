import type { BindingCertificate, TokenType } from "./result";

/**
 * A cached token. Holds the binding certificate's private key for PoP tokens: a store that keeps
 * entries outside the process must protect them like any other secret.
 */
export interface CacheEntry {
  readonly accessToken: string;
  readonly tokenType: TokenType;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  /** Epoch milliseconds at which a background refresh is due (already jittered), if any. */
  readonly refreshAt?: number | undefined;
  readonly scopes: readonly string[];
  readonly tenantId?: string | undefined;
  readonly bindingCertificate?: BindingCertificate | undefined;
  readonly tokenEndpoint?: string | undefined;
}

/**
 * The cache seam: synchronous or asynchronous. The default is `createMemoryCacheStore()`; check
 * your own with `testCacheStore` from `@certbound/core/testing`.
 *
 * @example
 * ```ts
 * const map = new Map<string, CacheEntry>();
 * const store: CacheStore = { get: (k) => map.get(k), set: (k, e) => void map.set(k, e), delete: (k) => void map.delete(k) };
 * ```
 */
export interface CacheStore {
  get(key: string): CacheEntry | undefined | Promise<CacheEntry | undefined>;
  set(key: string, entry: CacheEntry): void | Promise<void>;
  delete?(key: string): void | Promise<void>;
}
