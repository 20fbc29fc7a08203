import type { BindingCertificate, TokenType } from "../seams/result";
import type { CacheEntry } from "./cache-entry-codec";
import { sweepClock } from "./clock-sweep";

/**
 * One cached token in process, with its place in the cache: the entry's fields, its key, and the
 * marks of the cache. The token manager's key memo holds these slots, not key strings, so a
 * repeated request reaches its token in one lookup instead of two (the memo's, then the cache's)
 * and reads one object: over thousands of keys visited in random order each lookup and each object
 * is a likely CPU-cache miss, which is what a hit on many keys pays beyond a hit on one.
 *
 * A slot that is not `live` (evicted, deleted, replaced by a newer token, or made by the memo
 * before any token was stored) serves nothing: its holder asks {@link LocalTokens.slot} for the
 * key's current one.
 *
 * @internal
 * @example
 * ```ts
 * const slot = deadSlot(key);
 * ```
 */
export interface TokenSlot extends CacheEntry {
  readonly key: string;
  // Writable here: a slot that dies lets go of its token and certificate (see LocalTokens).
  accessToken: string;
  bindingCertificate?: BindingCertificate | undefined;
  /** Set by a hit, cleared by the eviction sweep: the second chance of the clock algorithm. */
  used: boolean;
  live: boolean;
}

/**
 * A slot holding no token, for a key not (or no longer) in the cache. Same fields in the same order
 * as a live slot, so the engine sees one shape at every hit.
 *
 * @internal
 * @example
 * ```ts
 * const slot = deadSlot(tokenCacheKey(parts));
 * ```
 */
export function deadSlot(key: string): TokenSlot {
  return slotOf(key, NO_ENTRY, false);
}

const NO_ENTRY: CacheEntry = {
  accessToken: "",
  tokenType: "Bearer",
  // A double, like every real expiry: the field keeps one representation.
  expiresAt: Number.NEGATIVE_INFINITY,
  scopes: Object.freeze([]),
};

function slotOf(key: string, entry: CacheEntry, live: boolean): TokenSlot {
  return {
    accessToken: entry.accessToken,
    tokenType: entry.tokenType as TokenType,
    expiresAt: entry.expiresAt,
    refreshAt: entry.refreshAt,
    scopes: entry.scopes,
    tenantId: entry.tenantId,
    bindingCertificate: entry.bindingCertificate as BindingCertificate | undefined,
    tokenEndpoint: entry.tokenEndpoint,
    key,
    used: false,
    live,
  };
}

/**
 * The token manager's cache when the app passes no store: entries as they are (nothing
 * serialised), bounded with the "clock" approximation of LRU (`sweepClock`, as `LruMap`). A hit marks its
 * slot used itself (`if (!slot.used) slot.used = true`), so it costs no lookup here at all.
 *
 * @internal
 * @example
 * ```ts
 * const tokens = new LocalTokens(10_000);
 * const slot = tokens.set(key, entry);
 * ```
 */
export class LocalTokens {
  readonly #slots = new Map<string, TokenSlot>();
  readonly #max: number;

  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`LocalTokens: maxEntries must be a positive integer, got ${maxEntries}`);
    }
    this.#max = maxEntries;
  }

  get size(): number {
    return this.#slots.size;
  }

  /** The key's live slot, if it holds a token. */
  slot(key: string): TokenSlot | undefined {
    return this.#slots.get(key);
  }

  /** Stores `entry` under `key` in a new slot; the key's previous slot, if any, stops being live. */
  set(key: string, entry: CacheEntry): TokenSlot {
    const slot = slotOf(key, entry, true);
    const previous = this.#slots.get(key);
    this.#slots.set(key, slot);
    if (previous !== undefined) {
      release(previous);
      // Keeps the key's second chance: it was in use until now.
      slot.used = true;
      return slot;
    }
    if (this.#slots.size > this.#max) this.#evictOne();
    return slot;
  }

  delete(key: string): void {
    const slot = this.#slots.get(key);
    if (slot === undefined) return;
    this.#slots.delete(key);
    release(slot);
  }

  #evictOne(): void {
    release(sweepClock(this.#slots)[1]);
  }
}

// The key memo may hold a dead slot until its generation is dropped (up to 40,000 of them): it
// keeps neither the token nor the binding certificate (with its private key) alive.
function release(slot: TokenSlot): void {
  slot.live = false;
  slot.accessToken = "";
  slot.bindingCertificate = undefined;
}
