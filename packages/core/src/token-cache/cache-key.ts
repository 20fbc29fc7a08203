import type { TokenType } from "../seams/result";

/**
 * The parts that identify a cached app token (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s5-1-cache-key).
 *
 * @public
 */
export interface CacheKeyParts {
  /** The application (client id) or managed identity the token was issued to. */
  readonly clientId: string;
  /**
   * The authority or tenant, and where the token endpoint is not derived from it, that endpoint's
   * host too (two endpoints never share tokens); for managed identity, the identity endpoint.
   */
  readonly authority: string;
  readonly scopes: readonly string[];
  readonly tokenType: TokenType;
  /** For PoP tokens: the binding certificate's `x5t#S256`. */
  readonly x5tS256?: string | undefined;
}

// A separator that cannot occur in a client id, authority, scope or base64url thumbprint.
const SEP = "\u0000";

/**
 * Builds the cache key: client id, authority, sorted lower-cased scopes, token type, and for PoP the
 * binding certificate's thumbprint, so a token bound to certificate A can never be served for
 * certificate B or for a Bearer request.
 *
 * @public
 * @example
 * ```ts
 * tokenCacheKey({ clientId, authority, scopes: ["b", "a"], x5tS256 }, "mtls_pop");
 * ```
 */
export function tokenCacheKey(
  parts: Omit<CacheKeyParts, "tokenType"> & { readonly tokenType?: TokenType | undefined },
  tokenType: TokenType = parts.tokenType ?? "Bearer",
): string {
  const scopes =
    parts.scopes.length === 1
      ? (parts.scopes[0] as string).toLowerCase()
      : parts.scopes
          .map((s) => s.toLowerCase())
          .sort()
          .join(" ");
  return (
    parts.clientId.toLowerCase() +
    SEP +
    parts.authority.toLowerCase() +
    SEP +
    scopes +
    SEP +
    tokenType +
    SEP +
    (tokenType === "mtls_pop" ? (parts.x5tS256 ?? "") : "")
  );
}

/**
 * How many keys one generation of a {@link CacheKeyMemo} holds: twice the default token cache's
 * size. A client whose working set is about the cache's size (10,000 keys, plus the fresh-array
 * lookups of the same scopes) otherwise turns a generation over on every pass, and each hit then
 * misses the current generation and copies its key across (measured: PoP hits over 10,000 keys
 * 9.1x the floor with 10,000, 6.1x with 20,000).
 */
const MEMO_GENERATION_KEYS = 20_000;

/**
 * What a {@link CacheKeyMemo} remembers per key: at least the key string. The token manager keeps
 * its in-process slot here (see `TokenSlot`), so a remembered request reaches its token directly.
 *
 * @internal
 * @example
 * ```ts
 * const leaf: MemoLeaf = { key: tokenCacheKey(parts) };
 * ```
 */
export interface MemoLeaf {
  readonly key: string;
}

// clientId -> authority -> partition (token type / thumbprint) -> scope -> leaf.
type Generation<L> = Map<string, Map<string, Map<string, Map<string, L>>>>;

/**
 * Remembers the cache keys of single-scope requests so that a repeated request finds its key
 * string (whose hash the engine has already computed) instead of concatenating and hashing a new
 * one: on the cache-hit path that is most of the cost of a lookup. A lookup is four `Map.get`s on
 * strings the app keeps (client id, authority, thumbprint, scope), so their hashes are known; the
 * first three maps are small and stay in the CPU cache, so a hit over many keys pays one lookup
 * that is likely to miss it, in the scope map, like the awaited `Map.get` it is measured against.
 *
 * What it keeps per key is a leaf (`make(key)`, by default `{ key }`): the token manager's leaves
 * are its cache slots, so a hit needs no second lookup by key string.
 *
 * Memory is bounded like the token cache: keys live in two generations of at most `maxKeys` each.
 * When the current one is full it becomes the previous one (the one before is dropped), and a key
 * found only in the previous generation moves to the current one: an approximate LRU whose hits
 * cost nothing extra. A forgotten key is simply computed again.
 *
 * @internal
 * @example
 * ```ts
 * const keys = new CacheKeyMemo();
 * keys.keyFor("my-app", "https://login.microsoftonline.com/tenant", ["https://vault.azure.net/.default"], "Bearer", undefined);
 * ```
 */
export class CacheKeyMemo<L extends MemoLeaf = MemoLeaf> {
  readonly #max: number;
  readonly #make: (key: string) => L;
  readonly #keep: (leaf: L) => boolean;
  #current: Generation<L> = new Map();
  #previous: Generation<L> | undefined;
  #size = 0;
  #previousSize = 0;
  // The scope map of the last partition looked up in the current generation: a client asking for
  // many scopes of one identity and authority reaches it with three pointer comparisons instead of
  // three lookups.
  #lastClientId: string | undefined;
  #lastAuthority: string | undefined;
  #lastPartition: string | undefined;
  #lastByScope: Map<string, L> | undefined;

  /**
   * @param make - the leaf of a key the memo does not hold yet.
   * @param keep - whether to remember a leaf just made; one that is not kept is made again on the
   * next lookup (the token manager keeps only slots that hold a token, so keys asked for once do
   * not fill the memo with empty slots).
   */
  constructor(
    maxKeys = MEMO_GENERATION_KEYS,
    make: (key: string) => L = (key) => ({ key }) as L,
    keep: (leaf: L) => boolean = () => true,
  ) {
    if (!Number.isInteger(maxKeys) || maxKeys < 1) {
      throw new RangeError(`CacheKeyMemo: maxKeys must be a positive integer, got ${maxKeys}`);
    }
    this.#max = maxKeys;
    this.#make = make;
    this.#keep = keep;
  }

  /** Keys held over both generations (at most twice `maxKeys`; a promoted key may count twice). */
  get size(): number {
    return this.#size + this.#previousSize;
  }

  keyFor(
    clientId: string,
    authority: string,
    scopes: readonly string[],
    tokenType: TokenType,
    x5t: string | undefined,
  ): string {
    return this.leafFor(clientId, authority, scopes, tokenType, x5t).key;
  }

  /** The leaf of these parts: remembered for a single scope, made anew (not kept) for several. */
  leafFor(
    clientId: string,
    authority: string,
    scopes: readonly string[],
    tokenType: TokenType,
    x5t: string | undefined,
  ): L {
    if (scopes.length !== 1) return this.#make(compute(clientId, authority, scopes, tokenType, x5t));
    const scope = scopes[0] as string;
    return this.#leaf(clientId, authority, scope, tokenType, x5t, scopes);
  }

  /**
   * The leaf of a scope alias (see the token manager's `scopeAlias`): remembered by the alias; on
   * a miss the key is computed from `scopesOf()` (which may throw: nothing is remembered then).
   */
  leafForAlias(
    clientId: string,
    authority: string,
    alias: string,
    tokenType: TokenType,
    x5t: string | undefined,
    scopesOf: () => readonly string[],
  ): L {
    return this.#leaf(clientId, authority, alias, tokenType, x5t, scopesOf);
  }

  #leaf(
    clientId: string,
    authority: string,
    scope: string,
    tokenType: TokenType,
    x5t: string | undefined,
    scopes: readonly string[] | (() => readonly string[]),
  ): L {
    // "Bearer" cannot collide with a 43-character base64url thumbprint.
    const partition = tokenType === "mtls_pop" ? (x5t ?? "") : "Bearer";
    let byScope: Map<string, L> | undefined;
    if (
      this.#lastByScope !== undefined &&
      clientId === this.#lastClientId &&
      authority === this.#lastAuthority &&
      partition === this.#lastPartition
    ) {
      byScope = this.#lastByScope;
    } else {
      byScope = this.#current.get(clientId)?.get(authority)?.get(partition);
      if (byScope !== undefined) {
        this.#lastClientId = clientId;
        this.#lastAuthority = authority;
        this.#lastPartition = partition;
        this.#lastByScope = byScope;
      }
    }
    const leaf = byScope?.get(scope);
    if (leaf !== undefined) return leaf;
    const previous = this.#previous?.get(clientId)?.get(authority)?.get(partition)?.get(scope);
    if (previous !== undefined) {
      this.#remember(clientId, authority, partition, scope, previous);
      return previous;
    }
    const made = this.#make(
      compute(clientId, authority, typeof scopes === "function" ? scopes() : scopes, tokenType, x5t),
    );
    if (this.#keep(made)) this.#remember(clientId, authority, partition, scope, made);
    return made;
  }

  /** Replaces the leaf of a single-scope request or of an alias (e.g. a dead cache slot by the key's live one). */
  replace(
    clientId: string,
    authority: string,
    scope: string,
    tokenType: TokenType,
    x5t: string | undefined,
    leaf: L,
  ): void {
    const partition = tokenType === "mtls_pop" ? (x5t ?? "") : "Bearer";
    const byScope = this.#current.get(clientId)?.get(authority)?.get(partition);
    if (byScope?.has(scope)) byScope.set(scope, leaf);
    else this.#remember(clientId, authority, partition, scope, leaf);
  }

  #remember(clientId: string, authority: string, partition: string, scope: string, leaf: L): void {
    if (this.#size >= this.#max) {
      this.#previous = this.#current;
      this.#previousSize = this.#size;
      this.#current = new Map();
      this.#size = 0;
      this.#lastByScope = undefined;
    }
    let byAuthority = this.#current.get(clientId);
    if (!byAuthority) {
      byAuthority = new Map();
      this.#current.set(clientId, byAuthority);
    }
    let byPartition = byAuthority.get(authority);
    if (!byPartition) {
      byPartition = new Map();
      byAuthority.set(authority, byPartition);
    }
    let byScope = byPartition.get(partition);
    if (!byScope) {
      byScope = new Map();
      byPartition.set(partition, byScope);
    }
    byScope.set(scope, leaf);
    this.#size++;
  }
}

// Builds the parts only when a key is computed: a remembered key allocates nothing.
function compute(
  clientId: string,
  authority: string,
  scopes: readonly string[],
  tokenType: TokenType,
  x5t: string | undefined,
): string {
  return tokenCacheKey({ clientId, authority, scopes, x5tS256: x5t }, tokenType);
}
