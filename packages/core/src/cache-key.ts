import { LruMap } from "./lru-map";
import type { TokenType } from "./result";

/** The parts that identify a cached app token (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s5-1-cache-key). */
export interface CacheKeyParts {
  /** The application (client id) or managed identity the token was issued to. */
  readonly clientId: string;
  /** The authority or tenant; for managed identity, the identity endpoint. */
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
 * Remembers the cache keys of single-scope requests so that a repeated request finds its key
 * string (whose hash the engine has already computed) instead of concatenating and hashing a new
 * one: on the cache-hit path that is most of the cost of a lookup. Bounded per partition and in
 * partitions; a forgotten key is simply computed again.
 *
 * @example
 * ```ts
 * const keys = new CacheKeyMemo("my-app", "https://login.microsoftonline.com/tenant");
 * keys.keyFor(["https://vault.azure.net/.default"], "Bearer", undefined);
 * ```
 */
export class CacheKeyMemo {
  readonly #clientId: string;
  readonly #authority: string;
  readonly #partitions = new LruMap<string, LruMap<string, string>>(64);

  constructor(clientId: string, authority: string) {
    this.#clientId = clientId;
    this.#authority = authority;
  }

  keyFor(scopes: readonly string[], tokenType: TokenType, x5t: string | undefined): string {
    if (scopes.length !== 1) return this.#compute(scopes, tokenType, x5t);
    // "Bearer" cannot collide with a 43-character base64url thumbprint.
    const partitionId = tokenType === "mtls_pop" ? (x5t ?? "") : "Bearer";
    let partition = this.#partitions.get(partitionId);
    if (!partition) {
      partition = new LruMap<string, string>(10_000);
      this.#partitions.set(partitionId, partition);
    }
    const scope = scopes[0] as string;
    let key = partition.get(scope);
    if (key === undefined) {
      key = this.#compute(scopes, tokenType, x5t);
      partition.set(scope, key);
    }
    return key;
  }

  // Builds the parts only when a key is computed: a remembered key allocates nothing.
  #compute(scopes: readonly string[], tokenType: TokenType, x5t: string | undefined): string {
    return tokenCacheKey(
      { clientId: this.#clientId, authority: this.#authority, scopes, x5tS256: x5t },
      tokenType,
    );
  }
}
