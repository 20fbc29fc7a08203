import type { TokenType } from "./result";

/** The parts that identify a cached app token (protocol.md section 5). */
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
 * tokenCacheKey({ clientId, authority, scopes: ["b", "a"], tokenType: "mtls_pop", x5tS256 });
 * ```
 */
export function tokenCacheKey(parts: CacheKeyParts): string {
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
    parts.tokenType +
    SEP +
    (parts.tokenType === "mtls_pop" ? (parts.x5tS256 ?? "") : "")
  );
}
