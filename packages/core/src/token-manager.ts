import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { CacheKeyMemo, type CacheKeyParts, tokenCacheKey } from "./cache-key";
import type { CacheEntry, CacheStore } from "./cache-store";
import { type Clock, systemClock, throwIfAborted } from "./clock";
import { nextCorrelationId } from "./correlation-id";
import type { AcquiredToken, CredentialSource, SourceRequest } from "./credential-source";
import { CertboundError, invalidOptions } from "./errors";
import { createLog, type Logger } from "./logger";
import { createMemoryCacheStore } from "./memory-cache-store";
import { MTLS_POP_TOKEN_TYPE, type TokenResult, type TokenType } from "./result";
import { SingleFlight } from "./single-flight";

/**
 * Tokens are served from the cache only while more than this remains (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s5-2-serving).
 *
 * @example
 * ```ts
 * const servable = entry.expiresAt - Date.now() > EXPIRY_BUFFER_MS;
 * ```
 */
export const EXPIRY_BUFFER_MS = 5 * 60 * 1000;
/**
 * `refresh_in` is spread by up to this much either way, so a fleet does not refresh in lockstep.
 *
 * @example
 * ```ts
 * const jitter = (Math.random() * 2 - 1) * REFRESH_JITTER_MS;
 * ```
 */
export const REFRESH_JITTER_MS = 5 * 60 * 1000;

/** Options of {@link createTokenManager}. */
export interface TokenManagerOptions<C = undefined> {
  /** Performs one network acquisition. */
  source: CredentialSource<C>;
  /** @default createMemoryCacheStore() (10,000 entries, LRU) */
  cache?: CacheStore | undefined;
  /** @default systemClock */
  clock?: Clock | undefined;
  logger?: Logger | undefined;
}

/** One `acquireToken` call on a {@link TokenManager}. */
export interface TokenManagerRequest<C = undefined> {
  readonly clientId: string;
  readonly authority: string;
  readonly scopes: readonly string[];
  /** @default "Bearer" */
  readonly tokenType?: TokenType | undefined;
  /** For PoP: the thumbprint of the certificate the token will be bound to, when known up front. */
  readonly x5tS256?: string | undefined;
  /** Skip the cache read and fetch a new token (still stored afterwards). */
  readonly forceRefresh?: boolean | undefined;
  /** A claims challenge: bypasses the cache, as the cached token did not satisfy it. */
  readonly claims?: string | undefined;
  /** `client-request-id` of this call. @default a new UUID */
  readonly correlationId?: string | undefined;
  /** Ends this caller's wait only; an acquisition shared with other callers goes on. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Handed to the source as `SourceRequest.context` when this call starts the acquisition, e.g.
   * the certificate a credential resolved for the cache key, so the source does not resolve it again.
   */
  readonly context?: C | undefined;
  /**
   * The time of this call, when the caller has just read it from the same clock the manager was
   * given (e.g. to check a certificate's validity before the call): the manager then checks expiry
   * against it instead of reading the clock a second time, a noticeable part of a cache hit.
   * @default clock.now()
   */
  readonly now?: number | undefined;
}

/**
 * Cache lookup, then single-flight per key, then the credential source. Cache hits do no I/O and
 * no parsing; a `refreshOn` in the past triggers one background refresh while callers keep getting
 * the cached token; a failed refresh changes nothing.
 */
export interface TokenManager<C = undefined> {
  acquireToken(request: TokenManagerRequest<C>): Promise<TokenResult>;
  /** Removes the cached token for these parts, e.g. after the resource rejected it. */
  evict(parts: CacheKeyParts): Promise<void>;
  /**
   * Aborts acquisitions in flight and background refreshes. Their callers get an `aborted` error
   * with `message` (by default, that the token manager was closed), not the message of a caller's
   * own AbortSignal: they passed none.
   */
  close(message?: string): void;
}

/**
 * Builds a {@link TokenManager} around any {@link CredentialSource}: the credential packages use it,
 * and so can a source of your own to get caching, single-flight and refresh for free.
 *
 * @example
 * ```ts
 * const manager = createTokenManager({ source: async (req) => myIssuer(req) });
 * const result = await manager.acquireToken({ clientId: "my-app", authority: "my-issuer", scopes: ["api://x/.default"] });
 * ```
 */
export function createTokenManager<C = undefined>(options: TokenManagerOptions<C>): TokenManager<C> {
  const { source } = options;
  const acquire =
    typeof source === "function"
      ? source
      : typeof source?.acquire === "function"
        ? (req: SourceRequest<C>) => source.acquire(req)
        : undefined;
  if (!acquire) {
    throw invalidOptions(
      "@certbound/core",
      "`source` must be a function or an object with an `acquire` method.",
    );
  }
  const cache = options.cache ?? createMemoryCacheStore();
  const clock = options.clock ?? systemClock;
  const log = createLog(options.logger);
  const flights = new SingleFlight<string, TokenResult>();
  const lifetime = new AbortController();
  // Every acquisition in flight listens on this one signal; dozens at once are normal, not a leak.
  setMaxListeners(0, lifetime.signal);
  // One key memo per application identity; apps keep their clientId/authority strings, so these
  // lookups hit strings whose hashes are already known.
  const memos = new Map<string, Map<string, CacheKeyMemo>>();
  // The key of the last single-scope request: a client asking for one token over and over finds it
  // with a few string comparisons (same strings, so the engine compares pointers), no map lookups.
  // Updated in place (no allocation when a caller cycles through many scopes).
  const last = {
    clientId: "",
    authority: "",
    scope: "",
    tokenType: "Bearer" as TokenType,
    x5t: undefined as string | undefined,
    key: "",
  };
  const keyFor = (request: TokenManagerRequest<C>, tokenType: TokenType): string => {
    const { scopes } = request;
    if (
      last.key !== "" &&
      scopes.length === 1 &&
      scopes[0] === last.scope &&
      request.clientId === last.clientId &&
      request.authority === last.authority &&
      tokenType === last.tokenType &&
      request.x5tS256 === last.x5t
    ) {
      return last.key;
    }
    let byAuthority = memos.get(request.clientId);
    if (!byAuthority) {
      if (memos.size >= 1000) memos.clear();
      byAuthority = new Map();
      memos.set(request.clientId, byAuthority);
    }
    let memo = byAuthority.get(request.authority);
    if (!memo) {
      memo = new CacheKeyMemo(request.clientId, request.authority);
      byAuthority.set(request.authority, memo);
    }
    const key = memo.keyFor(scopes, tokenType, request.x5tS256);
    if (scopes.length === 1) {
      last.clientId = request.clientId;
      last.authority = request.authority;
      last.scope = scopes[0] as string;
      last.tokenType = tokenType;
      last.x5t = request.x5tS256;
      last.key = key;
    }
    return key;
  };

  const toResult = (entry: CacheEntry, correlationId: string, durationMs: number): TokenResult => {
    return {
      accessToken: entry.accessToken,
      tokenType: entry.tokenType,
      expiresOn: new Date(entry.expiresAt),
      refreshOn: entry.refreshAt === undefined ? undefined : new Date(entry.refreshAt),
      scopes: entry.scopes,
      tenantId: entry.tenantId,
      bindingCertificate: entry.bindingCertificate,
      metadata: {
        tokenSource: "cache",
        correlationId,
        tokenEndpoint: entry.tokenEndpoint,
        durationMs,
      },
    };
  };

  async function fetchAndStore(
    key: string,
    request: TokenManagerRequest<C>,
    tokenType: TokenType,
    correlationId: string,
    store: boolean,
  ): Promise<TokenResult> {
    const started = clock.now();
    const token = await acquire?.({
      scopes: request.scopes,
      tokenType,
      claims: request.claims,
      correlationId,
      signal: lifetime.signal,
      context: request.context,
    });
    validateAcquired(token, tokenType);
    const refreshAt =
      token.refreshOn === undefined
        ? undefined
        : token.refreshOn.getTime() + Math.round((clock.random() * 2 - 1) * REFRESH_JITTER_MS);
    const entry: CacheEntry = {
      accessToken: token.accessToken,
      tokenType: token.tokenType,
      expiresAt: token.expiresOn.getTime(),
      refreshAt,
      // Cache hits hand this array to every caller: frozen, so no caller can change the entry (and
      // a copy, so the requester changing its own array later cannot either).
      scopes: Object.isFrozen(request.scopes) ? request.scopes : Object.freeze([...request.scopes]),
      tenantId: token.tenantId,
      bindingCertificate: token.bindingCertificate,
      tokenEndpoint: token.tokenEndpoint,
    };
    // A PoP token is stored under the thumbprint it is really bound to, which a source may learn
    // only while acquiring (a managed identity's freshly minted certificate).
    const storeKey =
      tokenType === MTLS_POP_TOKEN_TYPE &&
      token.bindingCertificate &&
      token.bindingCertificate.x5tS256 !== request.x5tS256
        ? tokenCacheKey({ ...request, x5tS256: token.bindingCertificate.x5tS256 }, tokenType)
        : key;
    if (store) await cache.set(storeKey, entry);
    const result = toResult(entry, correlationId, clock.now() - started);
    return { ...result, metadata: { ...result.metadata, tokenSource: "identity_provider" } };
  }

  function refreshInBackground(key: string, request: TokenManagerRequest<C>, tokenType: TokenType): void {
    if (flights.has(key)) return;
    const correlationId = randomUUID();
    log.verbose("refreshing a cached token in the background", { correlationId });
    flights
      .run(key, () => fetchAndStore(key, request, tokenType, correlationId, true))
      .catch((error: unknown) => {
        log.warn("background token refresh failed; the cached token is still served", {
          correlationId,
          code: error instanceof CertboundError ? error.code : "unknown",
        });
      });
  }

  // A cached entry still worth serving at `now`, as a result; `undefined` sends the call to the source.
  const fromCache = (
    entry: CacheEntry | undefined,
    now: number,
    started: number,
    key: string,
    request: TokenManagerRequest<C>,
    tokenType: TokenType,
  ): TokenResult | undefined => {
    if (entry === undefined || !(entry.expiresAt - now > EXPIRY_BUFFER_MS) || entry.tokenType !== tokenType) {
      return undefined;
    }
    if (entry.refreshAt !== undefined && now >= entry.refreshAt) refreshInBackground(key, request, tokenType);
    return toResult(entry, request.correlationId ?? nextCorrelationId(), now - started);
  };

  async function acquireAfterLookup(
    pending: Promise<CacheEntry | undefined> | undefined,
    started: number,
    key: string,
    request: TokenManagerRequest<C>,
    tokenType: TokenType,
  ): Promise<TokenResult> {
    if (pending !== undefined) {
      const hit = fromCache(await pending, clock.now(), started, key, request, tokenType);
      if (hit) return hit;
    }
    const correlationId = request.correlationId ?? randomUUID();
    // Claims requests are not shared: each carries its own challenge and is never cached.
    if (request.claims !== undefined) {
      return fetchAndStore(key, request, tokenType, correlationId, false);
    }
    const result = await flights.run(
      key,
      () => fetchAndStore(key, request, tokenType, correlationId, true),
      request.signal,
    );
    return { ...result, metadata: { ...result.metadata, durationMs: clock.now() - started } };
  }

  return {
    // Not `async`: a hit in a synchronous store is served without awaiting anything, in an already
    // resolved promise. Errors still come back as rejections, never as throws.
    acquireToken(request) {
      try {
        const started = request.now ?? clock.now();
        throwIfAborted(request.signal);
        const tokenType = request.tokenType ?? "Bearer";
        const key = keyFor(request, tokenType);
        if (request.forceRefresh || request.claims !== undefined) {
          return acquireAfterLookup(undefined, started, key, request, tokenType);
        }
        const pending = cache.get(key);
        if (pending instanceof Promise) return acquireAfterLookup(pending, started, key, request, tokenType);
        // A synchronous store answers within the same millisecond: one clock read serves the
        // expiry check and the duration (reading the clock is a noticeable part of a hit).
        const hit = fromCache(pending, started, started, key, request, tokenType);
        if (hit) return Promise.resolve(hit);
        return acquireAfterLookup(undefined, started, key, request, tokenType);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    async evict(parts) {
      await cache.delete?.(tokenCacheKey(parts, parts.tokenType));
    },
    close(message) {
      lifetime.abort(
        new CertboundError(
          "aborted",
          message ?? "The token manager was closed while this call was in flight; create a new one.",
        ),
      );
    },
  };
}

function validateAcquired(
  token: AcquiredToken | undefined,
  tokenType: TokenType,
): asserts token is AcquiredToken {
  if (!token || typeof token.accessToken !== "string" || token.accessToken.length === 0) {
    throw new CertboundError("invalid_token_response", "The credential source returned no access token.");
  }
  if (!(token.expiresOn instanceof Date) || Number.isNaN(token.expiresOn.getTime())) {
    throw new CertboundError(
      "invalid_token_response",
      "The credential source returned no valid `expiresOn` date.",
    );
  }
  if (token.tokenType !== tokenType) {
    throw new CertboundError(
      "token_type_mismatch",
      `Asked for a ${tokenType} token but the credential source returned ${token.tokenType}. A PoP request is never downgraded to Bearer.`,
    );
  }
  if (tokenType === MTLS_POP_TOKEN_TYPE && !token.bindingCertificate) {
    throw new CertboundError(
      "binding_certificate_missing",
      "The credential source returned an mtls_pop token without its binding certificate.",
    );
  }
}
