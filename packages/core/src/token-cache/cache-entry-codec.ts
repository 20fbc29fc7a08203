import type { BindingCertificate, TokenType } from "../seams/result";

/**
 * A cached token as the token manager holds it in process. A PoP entry carries its binding
 * certificate (with the private key): such an entry never leaves the process as is; an external
 * {@link CacheStore} gets it through {@link serializeCacheEntry}, which keeps only the thumbprint.
 *
 * @internal
 * @example
 * ```ts
 * const entry: CacheEntry = { accessToken, tokenType: "Bearer", expiresAt: Date.now() + 3600_000, scopes };
 * ```
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
 * An entry read back from a store: everything but the binding certificate, which the credential
 * that owns it resolves by `x5tS256`.
 *
 * @internal
 * @example
 * ```ts
 * const stored = deserializeCacheEntry(key, await store.get(key));
 * ```
 */
export interface StoredCacheEntry extends Omit<CacheEntry, "bindingCertificate"> {
  /** For PoP entries: the binding certificate's `x5t#S256`. */
  readonly x5tS256?: string | undefined;
}

/**
 * A value of a store as the token manager last read or wrote it: `stored` is what `value` says,
 * `entry` the entry served for it with `certificate` (the resolved binding certificate), so that
 * reading the same string again neither parses nor allocates.
 *
 * @internal
 * @example
 * ```ts
 * const decoded: DecodedCacheEntry = { value, stored: undefined, certificate: undefined, entry: undefined };
 * ```
 */
export interface DecodedCacheEntry {
  readonly value: string;
  stored: StoredCacheEntry | undefined;
  certificate: BindingCertificate | undefined;
  entry: CacheEntry | undefined;
}

// Bumped when the format changes; an entry of another version is a miss (written again on fetch).
const FORMAT_VERSION = 1;

// The serialised form. Short names: a shared store may hold many entries. Only public data: the
// access token (a store of tokens must protect them anyway), times, scopes, tenant, endpoint and
// the binding certificate's thumbprint. Never a key, a certificate's private part or an assertion.
interface Wire {
  v: number;
  /** The cache key it was written under: a store that mixes keys up serves nothing. */
  k: string;
  at: string;
  tt: TokenType;
  exp: number;
  ref?: number;
  sc: string[];
  tid?: string;
  ep?: string;
  x5t?: string;
}

/**
 * The string an external store holds for `entry` under `key`: JSON with no key material (a PoP
 * entry names its binding certificate by `x5t#S256` only).
 *
 * @internal
 * @example
 * ```ts
 * await store.set(key, serializeCacheEntry(key, entry), ttlMs);
 * ```
 */
export function serializeCacheEntry(key: string, entry: CacheEntry): string {
  const wire: Wire = {
    v: FORMAT_VERSION,
    k: key,
    at: entry.accessToken,
    tt: entry.tokenType,
    exp: entry.expiresAt,
    sc: [...entry.scopes],
  };
  if (entry.refreshAt !== undefined) wire.ref = entry.refreshAt;
  if (entry.tenantId !== undefined) wire.tid = entry.tenantId;
  if (entry.tokenEndpoint !== undefined) wire.ep = entry.tokenEndpoint;
  if (entry.bindingCertificate !== undefined) wire.x5t = entry.bindingCertificate.x5tS256;
  return JSON.stringify(wire);
}

/**
 * Reads back what {@link serializeCacheEntry} wrote under `key`. Anything else (another key's
 * entry, another format version, a damaged or foreign value) is `undefined`: a miss, never a
 * half-read token. Scopes come back frozen, as results share them.
 *
 * @internal
 * @example
 * ```ts
 * const stored = deserializeCacheEntry(key, value);
 * ```
 */
export function deserializeCacheEntry(key: string, value: unknown): StoredCacheEntry | undefined {
  if (typeof value !== "string") return undefined;
  let wire: Partial<Wire>;
  try {
    wire = JSON.parse(value) as Partial<Wire>;
  } catch {
    return undefined;
  }
  if (typeof wire !== "object" || wire === null || wire.v !== FORMAT_VERSION || wire.k !== key)
    return undefined;
  const { at, tt, exp, ref, sc, tid, ep, x5t } = wire;
  if (typeof at !== "string" || at.length === 0) return undefined;
  if (tt !== "Bearer" && tt !== "mtls_pop") return undefined;
  if (!Number.isFinite(exp)) return undefined;
  if (ref !== undefined && !Number.isFinite(ref)) return undefined;
  if (!Array.isArray(sc) || !sc.every((s) => typeof s === "string")) return undefined;
  if (tid !== undefined && typeof tid !== "string") return undefined;
  if (ep !== undefined && typeof ep !== "string") return undefined;
  // A PoP entry without a thumbprint could not be resolved to its certificate; a Bearer entry
  // with one is not something this code wrote.
  if ((tt === "mtls_pop") !== (typeof x5t === "string" && x5t.length > 0)) return undefined;
  return {
    accessToken: at,
    tokenType: tt,
    expiresAt: exp as number,
    refreshAt: ref,
    scopes: Object.freeze(sc.slice()),
    tenantId: tid,
    tokenEndpoint: ep,
    x5tS256: x5t,
  };
}
