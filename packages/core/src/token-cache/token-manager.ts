import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { freezeBindingCertificate } from "../certificate/binding-certificate";
import { diagnostics } from "../diagnostics/diagnostics";
import { publishCacheLookup, traceAcquisition, traceRefresh } from "../diagnostics/trace-acquisition";
import { nextCorrelationId } from "../protocol/correlation-id";
import { CertboundError, invalidOptions } from "../protocol/errors";
import { throwIfAborted } from "../seams/abort";
import type { CacheStore, CacheWriteOptions } from "../seams/cache-store";
import { type Clock, keepAliveUntilSettled, markBackgroundSignal, systemClock } from "../seams/clock";
import { type Credential, credentialFetcher, isCredential } from "../seams/credential";
import { createLog, type Logger } from "../seams/logger";
import {
  type BindingCertificate,
  MTLS_POP_TOKEN_TYPE,
  type TokenResult,
  type TokenType,
} from "../seams/result";
import type { AcquiredToken, FetchRequest, TokenFetcher } from "../seams/token-fetcher";
import {
  type CacheEntry,
  type DecodedCacheEntry,
  deserializeCacheEntry,
  type StoredCacheEntry,
  serializeCacheEntry,
} from "./cache-entry-codec";
import { CacheKeyMemo, type CacheKeyParts, tokenCacheKey } from "./cache-key";
import { deadSlot, LocalTokens, type TokenSlot } from "./local-tokens";
import { LruMap } from "./lru-map";
import { memoryStoreSlots } from "./memory-cache-store";
import { SingleFlight } from "./single-flight";

/**
 * Tokens are served from the cache only while more than this remains (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s5-2-serving).
 *
 * @public
 * @example
 * ```ts
 * const servable = entry.expiresAt - Date.now() > EXPIRY_BUFFER_MS;
 * ```
 */
export const EXPIRY_BUFFER_MS = 5 * 60 * 1000;
/**
 * `refresh_in` is spread by up to this much either way, so a fleet does not refresh in lockstep.
 *
 * @public
 * @example
 * ```ts
 * const jitter = (Math.random() * 2 - 1) * REFRESH_JITTER_MS;
 * ```
 */
export const REFRESH_JITTER_MS = 5 * 60 * 1000;

/**
 * Back-off of a failed background refresh: the first wait, doubled after each further failure
 * up to `maxMs`. See {@link TokenManagerOptions.refreshBackoff}.
 *
 * @public
 * @example
 * ```ts
 * const refreshBackoff: RefreshBackoff = { initialMs: 30_000, maxMs: 600_000 };
 * ```
 */
export interface RefreshBackoff {
  /** @default 10000 (10 s) */
  readonly initialMs?: number | undefined;
  /** @default 300000 (5 min) */
  readonly maxMs?: number | undefined;
}

/**
 * The default {@link RefreshBackoff}: 10 s doubling to 5 min. A refresh is due while the cached
 * token still has (with Entra's `refresh_in`, about half of) its lifetime left, so a failing
 * provider is asked a few times an hour per key instead of on every cache hit, and still several
 * times before the token stops being served (a token no longer served is fetched in the foreground,
 * without waiting for the back-off).
 *
 * @public
 * @example
 * ```ts
 * createTokenManager({ fetcher, refreshBackoff: { ...DEFAULT_REFRESH_BACKOFF, maxMs: 60_000 } });
 * ```
 */
export const DEFAULT_REFRESH_BACKOFF = { initialMs: 10_000, maxMs: 300_000 } as const;

// A background refresh that failed, per cache key: when the next one may start.
interface RefreshFailure {
  failures: number;
  retryAt: number;
}

// Store failures are logged once, then summed up at most this often while they go on.
const STORE_FAILURE_LOG_INTERVAL_MS = 60_000;

// Entries kept in process without a store, and entries of a store kept deserialised.
const IN_PROCESS_ENTRIES = 10_000;

// The longest TTL hint handed to a store: stores may arm timers with it.
const MAX_TTL_MS = 2 ** 31 - 1;

/**
 * Finds the binding certificate (with its private key) of a PoP token read from a
 * {@link CacheStore}, by the certificate's `x5t#S256`. See {@link TokenManagerOptions.resolveBindingCertificate}.
 *
 * @public
 * @example
 * ```ts
 * const resolve: BindingCertificateResolver = (x5tS256) => (x5tS256 === mine.x5tS256 ? mine : undefined);
 * ```
 */
export type BindingCertificateResolver<C = undefined> = (
  x5tS256: string,
  context: C | undefined,
) => BindingCertificate | undefined;

// Values that are not entries this code wrote: logged like a failing store, served as a miss.
class UnreadableCacheEntry extends Error {
  override readonly name = "UnreadableCacheEntry";
}

/**
 * Options of {@link createTokenManager}.
 *
 * @public
 */
export interface TokenManagerOptions<C = undefined> {
  /**
   * Performs one network acquisition: a {@link TokenFetcher}, or any {@link Credential} (its
   * `getToken` is called on a miss, so its own cache may answer). A PoP token is stored under the
   * thumbprint of its binding certificate: pass that `x5tS256` in PoP requests to be served from
   * this manager's cache (without it, each PoP request reaches the credential).
   */
  fetcher?: TokenFetcher<C> | Credential | undefined;
  /**
   * The former name of {@link TokenManagerOptions.fetcher}: "source" now means only a managed
   * identity's source (IMDS, App Service, ...) and `metadata.tokenSource`.
   * @deprecated Use `fetcher`; `source` will be removed before 1.0.
   */
  source?: TokenFetcher<C> | Credential | undefined;
  /**
   * A store to keep tokens in besides the process, e.g. to share them between instances. Entries
   * reach it serialised, without key material (see {@link CacheStore}); a PoP entry read from it
   * is served only when {@link TokenManagerOptions.resolveBindingCertificate} still finds its
   * certificate. A store whose `get`/`set`/`delete` throws or rejects is logged (once per burst) and
   * bypassed: the token then comes from the fetcher.
   * @default none: tokens are kept in process (10,000 entries, LRU), not serialised
   */
  cache?: CacheStore | undefined;
  /**
   * Resolves the binding certificate of a PoP entry read from {@link TokenManagerOptions.cache}
   * by its `x5t#S256`, given the `context` of the call (e.g. the certificate the credential resolved
   * for it). The key material stays with the credential that owns it: return it only while that
   * credential holds the certificate, else `undefined` and the entry is a miss.
   * @default none: PoP entries of an external store are misses
   */
  resolveBindingCertificate?: BindingCertificateResolver<C> | undefined;
  /**
   * Whether this source's PoP tokens may leave the process: `false` when their binding key lives
   * only here (a managed identity's). Such entries reach the store with `{ shareable: false }`
   * (see {@link CacheWriteOptions}) and their acquisitions are not coordinated between processes.
   * @default true (a confidential client's certificate is held by every instance that uses it)
   */
  popTokensShareable?: boolean | undefined;
  /** @default systemClock */
  clock?: Clock | undefined;
  logger?: Logger | undefined;
  /**
   * How long to wait before refreshing a key again in the background after a refresh failed
   * (on the injected clock): at most one refresh request per key per wait.
   * @default DEFAULT_REFRESH_BACKOFF (10 s doubling to 5 min)
   */
  refreshBackoff?: RefreshBackoff | undefined;
}

/**
 * One `acquireToken` call on a {@link TokenManager}.
 *
 * @public
 */
export interface TokenManagerRequest {
  readonly clientId: string;
  readonly authority: string;
  readonly scopes: readonly string[];
  /** @default "Bearer" */
  readonly tokenType?: TokenType | undefined;
  /** For PoP: the thumbprint of the certificate the token will be bound to, when known up front. */
  readonly x5tS256?: string | undefined;
  /** Skip the cache read and fetch a new token (still stored afterwards). */
  readonly forceRefresh?: boolean | undefined;
  /**
   * A claims challenge: skips the cache read (the cached token did not satisfy it) and is never
   * shared with other callers; the token it gets is stored, so later plain calls get it too.
   */
  readonly claims?: string | undefined;
  /** `client-request-id` of this call. @default a new UUID */
  readonly correlationId?: string | undefined;
  /** Ends this caller's wait only; an acquisition shared with other callers goes on. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * A {@link TokenManagerRequest} with the hints certbound's own credentials pass on their hot path.
 * Kept out of the public request type: they are speed-ups whose shape may change in any release.
 * `acquireToken` reads them from any request that carries them.
 *
 * @internal
 */
export interface TokenManagerCall<C = undefined> extends TokenManagerRequest {
  /**
   * Handed to the fetcher as `FetchRequest.context` when this call starts the acquisition, e.g.
   * the certificate a credential resolved for the cache key, so the fetcher does not resolve it again.
   */
  readonly context?: C | undefined;
  /**
   * The time of this call, when the caller has just read it from the same clock the manager was
   * given (e.g. to check a certificate's validity before the call): the manager then checks expiry
   * against it instead of reading the clock a second time, a noticeable part of a cache hit.
   * @default clock.now()
   */
  readonly now?: number | undefined;
  /**
   * A string that stands for this call's single scope, as the caller was given it (a managed identity's
   * `resource` before normalisation): the cache is searched by it, and `scopes` (which may then be
   * empty) is taken from {@link TokenManagerCall.scopesOf} only when the search misses. A hit then
   * costs no normalisation and no lookup of its own in the caller. The same alias must always mean
   * the same scopes for the same client id, authority, token type and thumbprint.
   */
  readonly scopeAlias?: string | undefined;
  /**
   * The scopes `scopeAlias` stands for; may throw (e.g. `invalid_options` for a malformed
   * resource), which rejects the call before any I/O. Required with `scopeAlias`.
   */
  readonly scopesOf?: ((alias: string) => readonly string[]) | undefined;
}

/**
 * Cache lookup, then single-flight per key, then the token fetcher. In-process cache hits do
 * no I/O and no parsing (a store's value is parsed once per change); a `refreshOn` in the past triggers one background refresh while callers keep getting
 * the cached token; a failed refresh changes nothing but delays the next one (back-off per key).
 * Results of one cached token share its frozen scopes and binding certificate.
 * @public
 */
export interface TokenManager {
  acquireToken(request: TokenManagerRequest): Promise<TokenResult>;
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
 * Builds a {@link TokenManager} around any {@link TokenFetcher}: the credential packages use it,
 * and so can a fetcher of your own to get caching, single-flight and refresh for free.
 *
 * @public
 * @example
 * ```ts
 * const manager = createTokenManager({ fetcher: async (req) => myIssuer(req) });
 * const result = await manager.acquireToken({ clientId: "my-app", authority: "my-issuer", scopes: ["api://x/.default"] });
 * ```
 */
export function createTokenManager<C = undefined>(options: TokenManagerOptions<C>): TokenManager {
  if (options.fetcher !== undefined && options.source !== undefined) {
    throw invalidOptions("@certbound/core", "Pass `fetcher` only: `source` is its deprecated former name.");
  }
  const fetcher = options.fetcher ?? options.source;
  const acquire =
    typeof fetcher === "function"
      ? fetcher
      : isCredential(fetcher)
        ? credentialFetcher<C>(fetcher)
        : typeof fetcher?.acquire === "function"
          ? (req: FetchRequest<C>) => fetcher.acquire(req)
          : undefined;
  if (!acquire) {
    throw invalidOptions(
      "@certbound/core",
      "`fetcher` must be a function, an object with an `acquire` method, or a credential (an object with `getToken`).",
    );
  }
  const external = options.cache;
  const resolveBinding = options.resolveBindingCertificate;
  // Without a store, entries live here as they are (a hit parses nothing); with one, the store is
  // the truth and this keeps what was last read or written, so an unchanged value is not parsed again.
  const local = external === undefined ? new LocalTokens(IN_PROCESS_ENTRIES) : undefined;
  // An external store's values as last read or written, per key (see DecodedCacheEntry).
  const decoded = new LruMap<string, DecodedCacheEntry>(IN_PROCESS_ENTRIES);
  // A store made by createMemoryCacheStore: what was decoded is kept on its slots (one lookup a hit).
  const slots = external === undefined ? undefined : memoryStoreSlots(external);
  const coordinated = external?.coordinate?.bind(external);
  const popShareable = options.popTokensShareable !== false;
  const shareable: CacheWriteOptions = { shareable: true };
  const processOnly: CacheWriteOptions = { shareable: false };
  const clock = options.clock ?? systemClock;
  const log = createLog(options.logger);
  // Diagnostics payloads name the tenant and client only when the app allows it in its logs.
  const pii = options.logger?.piiLoggingEnabled === true;
  const backoff = resolveBackoff(options.refreshBackoff);
  // Bounded like the default cache: a key forgotten here only refreshes without back-off once more.
  const refreshFailures = new LruMap<string, RefreshFailure>(10_000);
  const flights = new SingleFlight<string, TokenResult>();
  const lifetime = new AbortController();
  // Every acquisition in flight listens on this one signal; dozens at once are normal, not a leak.
  setMaxListeners(0, lifetime.signal);
  // Proactive refreshes run under their own signal, marked as background: nobody awaits them, so
  // their retry waits must not keep a process alive that has finished its work.
  const refreshes = new AbortController();
  markBackgroundSignal(refreshes.signal);
  // Keys whose in-flight acquisition is a proactive refresh.
  const refreshing = new Set<string>();
  // Remembers the cache slots (and so the key strings) of single-scope requests; bounded (see
  // CacheKeyMemo). In process, a slot is where the token lives: a hit is this one lookup.
  // In process, only slots holding a token are remembered (a miss leaves an empty slot that is
  // dropped with the call): keys asked for once do not fill the memo. With a store, the leaf only
  // carries the key string, and every one is remembered.
  const slotOf = (key: string): TokenSlot => local?.slot(key) ?? deadSlot(key);
  const keepSlot = (slot: TokenSlot): boolean => local === undefined || slot.live;
  const memo = new CacheKeyMemo<TokenSlot>(undefined, slotOf, keepSlot);
  // The same for calls made with a scope alias (TokenManagerCall.scopeAlias), apart: an alias is
  // not a scope.
  const aliasMemo = new CacheKeyMemo<TokenSlot>(undefined, slotOf, keepSlot);
  // The slot of the last single-scope request: a client asking for one token over and over finds
  // it with a few string comparisons (same strings, so the engine compares pointers), no map
  // lookups. Updated in place (no allocation when a caller cycles through many scopes).
  const last = {
    clientId: "",
    authority: "",
    scope: "",
    tokenType: "Bearer" as TokenType,
    x5t: undefined as string | undefined,
    slot: undefined as TokenSlot | undefined,
    aliased: false,
  };
  const slotFor = (request: TokenManagerCall<C>, tokenType: TokenType): TokenSlot => {
    const alias = request.scopeAlias;
    if (alias !== undefined) return aliasSlotFor(request, alias, tokenType);
    const { scopes } = request;
    if (
      last.slot !== undefined &&
      !last.aliased &&
      scopes.length === 1 &&
      scopes[0] === last.scope &&
      request.clientId === last.clientId &&
      request.authority === last.authority &&
      tokenType === last.tokenType &&
      request.x5tS256 === last.x5t
    ) {
      return last.slot;
    }
    const slot = memo.leafFor(request.clientId, request.authority, scopes, tokenType, request.x5tS256);
    if (scopes.length === 1) {
      last.clientId = request.clientId;
      last.authority = request.authority;
      last.scope = scopes[0] as string;
      last.tokenType = tokenType;
      last.x5t = request.x5tS256;
      last.slot = slot;
      last.aliased = false;
    }
    return slot;
  };
  const aliasSlotFor = (request: TokenManagerCall<C>, alias: string, tokenType: TokenType): TokenSlot => {
    if (
      last.slot !== undefined &&
      last.aliased &&
      alias === last.scope &&
      request.clientId === last.clientId &&
      request.authority === last.authority &&
      tokenType === last.tokenType &&
      request.x5tS256 === last.x5t
    ) {
      return last.slot;
    }
    const scopesOf = request.scopesOf as (alias: string) => readonly string[];
    const slot = aliasMemo.leafForAlias(
      request.clientId,
      request.authority,
      alias,
      tokenType,
      request.x5tS256,
      () => scopesOf(alias),
    );
    last.clientId = request.clientId;
    last.authority = request.authority;
    last.scope = alias;
    last.tokenType = tokenType;
    last.x5t = request.x5tS256;
    last.slot = slot;
    last.aliased = true;
    return slot;
  };
  // A caller's scopes array may change after its call returned: work that outlives the call (a
  // fetch, a background refresh) takes a frozen copy first. A hit needs none: it serves the cached
  // entry's own frozen copy.
  // An aliased call gets its real scopes here (the alias has been resolved once already, so this
  // does not throw).
  const settled = (request: TokenManagerCall<C>): TokenManagerCall<C> => {
    if (request.scopeAlias !== undefined) {
      const scopes = (request.scopesOf as (alias: string) => readonly string[])(request.scopeAlias);
      return {
        ...request,
        scopes: Object.isFrozen(scopes) ? scopes : Object.freeze([...scopes]),
        scopeAlias: undefined,
        scopesOf: undefined,
      };
    }
    return Object.isFrozen(request.scopes)
      ? request
      : { ...request, scopes: Object.freeze([...request.scopes]) };
  };
  // For a slot that is not live (evicted, replaced by a newer token, or made by the memo before
  // any token was stored): the key's live slot, which the memo then remembers instead.
  const revive = (
    slot: TokenSlot,
    request: TokenManagerCall<C>,
    tokenType: TokenType,
  ): TokenSlot | undefined => {
    const current = (local as LocalTokens).slot(slot.key);
    if (current === undefined) return undefined;
    if (request.scopeAlias !== undefined) {
      aliasMemo.replace(
        request.clientId,
        request.authority,
        request.scopeAlias,
        tokenType,
        request.x5tS256,
        current,
      );
      if (last.slot === slot) last.slot = current;
    } else if (request.scopes.length === 1) {
      const scope = request.scopes[0] as string;
      memo.replace(request.clientId, request.authority, scope, tokenType, request.x5tS256, current);
      if (last.slot === slot) last.slot = current;
    }
    current.used = true;
    return current;
  };

  // A failing store is bypassed; its failures are logged once per burst, with no key or value (an
  // error of a store may quote the entry, i.e. the token).
  let storeFailureLoggedAt: number | undefined;
  let storeFailuresSinceLog = 0;
  const storeFailed = (operation: "get" | "set" | "delete" | "coordinate", error: unknown): void => {
    storeFailuresSinceLog++;
    const now = clock.now();
    if (storeFailureLoggedAt !== undefined && now - storeFailureLoggedAt < STORE_FAILURE_LOG_INTERVAL_MS)
      return;
    log.warn("the token cache store failed; bypassing it (tokens come from the identity provider)", {
      operation,
      error: error instanceof Error ? error.name : typeof error,
      code: error instanceof CertboundError ? error.code : undefined,
      failures: storeFailuresSinceLog,
    });
    storeFailureLoggedAt = now;
    storeFailuresSinceLog = 0;
  };
  // A value read from the store, as an entry to serve: `undefined` when absent, unreadable, or a
  // PoP entry whose certificate the credential no longer holds.
  const parse = (key: string, value: unknown): StoredCacheEntry | undefined => {
    const stored = deserializeCacheEntry(key, value);
    if (stored === undefined) storeFailed("get", new UnreadableCacheEntry());
    return stored;
  };
  const decode = (
    key: string,
    value: unknown,
    context: C | undefined,
    x5t: string | undefined,
  ): CacheEntry | undefined => {
    if (value === undefined || value === null) return undefined;
    let slot = decoded.get(key);
    if (slot === undefined || slot.value !== value) {
      const stored = parse(key, value);
      if (stored === undefined) return undefined;
      slot = { value: value as string, stored, certificate: undefined, entry: undefined };
      decoded.set(key, slot);
    }
    return resolveEntry(slot, context, x5t);
  };
  const resolveEntry = (
    slot: DecodedCacheEntry,
    context: C | undefined,
    x5t: string | undefined,
  ): CacheEntry | undefined => {
    // A Bearer entry already served: nothing to resolve.
    if (slot.certificate === undefined && slot.entry !== undefined) return slot.entry;
    const stored = slot.stored as StoredCacheEntry;
    if (stored.x5tS256 === undefined) {
      if (slot.entry === undefined) slot.entry = stored;
      return slot.entry;
    }
    // The key names the certificate asked for: an entry naming another one is not this key's.
    if (x5t !== undefined && stored.x5tS256 !== x5t) return undefined;
    let certificate: BindingCertificate | undefined;
    try {
      certificate = resolveBinding?.(stored.x5tS256, context);
    } catch (error) {
      log.warn("resolving the binding certificate of a cached token failed; treated as a miss", {
        error: error instanceof Error ? error.name : typeof error,
      });
      return undefined;
    }
    if (certificate === undefined || certificate.x5tS256 !== stored.x5tS256) return undefined;
    if (slot.certificate !== certificate || slot.entry === undefined) {
      const { x5tS256: _, ...rest } = stored;
      slot.entry = { ...rest, bindingCertificate: freezeBindingCertificate(certificate) };
      slot.certificate = certificate;
    }
    return slot.entry;
  };
  const readStore = (
    key: string,
    context: C | undefined,
    x5t: string | undefined,
    now: number,
  ): CacheEntry | undefined | Promise<CacheEntry | undefined> => {
    if (slots !== undefined) {
      const slot = slots.read(key);
      if (slot !== undefined) {
        if (slot.stored === undefined) slot.stored = parse(key, slot.value);
        const entry = slot.stored === undefined ? undefined : resolveEntry(slot, context, x5t);
        // A level in front of another store serves only a token still worth serving; else the
        // store's `get` is asked, which may find a newer one (another process's).
        if (slots.complete || (entry !== undefined && entry.expiresAt - now > EXPIRY_BUFFER_MS)) return entry;
      } else if (slots.complete) {
        return undefined;
      }
    }
    try {
      const pending = (external as CacheStore).get(key);
      if (pending instanceof Promise) {
        return pending.then(
          (value) => decode(key, value, context, x5t),
          (error: unknown) => {
            storeFailed("get", error);
            return undefined;
          },
        );
      }
      return decode(key, pending, context, x5t);
    } catch (error) {
      storeFailed("get", error);
      return undefined;
    }
  };
  const writeStore = async (key: string, entry: CacheEntry): Promise<void> => {
    if (local !== undefined) {
      local.set(key, entry);
      return;
    }
    const raw = serializeCacheEntry(key, entry);
    const { bindingCertificate, ...rest } = entry;
    const stored: StoredCacheEntry = { ...rest, x5tS256: bindingCertificate?.x5tS256 };
    if (slots === undefined) {
      decoded.set(key, { value: raw, stored, certificate: bindingCertificate, entry });
    }
    // How long the token stays servable: a store may expire the entry then (Redis PX).
    const ttlMs = Math.min(MAX_TTL_MS, Math.max(1, entry.expiresAt - EXPIRY_BUFFER_MS - clock.now()));
    try {
      await (external as CacheStore).set(
        key,
        raw,
        ttlMs,
        bindingCertificate === undefined || popShareable ? shareable : processOnly,
      );
      const slot = slots?.read(key);
      if (slot !== undefined && slot.value === raw) {
        slot.stored = stored;
        slot.certificate = bindingCertificate;
        slot.entry = entry;
      }
    } catch (error) {
      storeFailed("set", error);
    }
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
    request: TokenManagerCall<C>,
    tokenType: TokenType,
    correlationId: string,
    store: boolean,
    signal: AbortSignal = lifetime.signal,
  ): Promise<TokenResult> {
    const started = clock.now();
    const token = await acquire?.({
      scopes: request.scopes,
      tokenType,
      claims: request.claims,
      correlationId,
      signal,
      context: request.context,
    });
    validateAcquired(token, tokenType, clock.now());
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
      // a copy, taken when the call came in (see `settled`), so the requester changing its own
      // array later cannot either).
      scopes: Object.isFrozen(request.scopes) ? request.scopes : Object.freeze([...request.scopes]),
      tenantId: token.tenantId,
      // Shared by every hit, and in a credential by its own TLS calls: frozen, never copied per hit.
      bindingCertificate: token.bindingCertificate && freezeBindingCertificate(token.bindingCertificate),
      tokenEndpoint: token.tokenEndpoint,
    };
    // A PoP token is stored under the thumbprint it is really bound to, which a fetcher may learn
    // only while acquiring (a managed identity's freshly minted certificate).
    const storeKey =
      tokenType === MTLS_POP_TOKEN_TYPE &&
      token.bindingCertificate &&
      token.bindingCertificate.x5tS256 !== request.x5tS256
        ? tokenCacheKey({ ...request, x5tS256: token.bindingCertificate.x5tS256 }, tokenType)
        : key;
    if (store) await writeStore(storeKey, entry);
    // A new token, however it was obtained, ends the back-off of its key's background refresh.
    if (refreshFailures.size > 0) refreshFailures.delete(key);
    const result = toResult(entry, correlationId, clock.now() - started);
    return { ...result, metadata: { ...result.metadata, tokenSource: "identity_provider" } };
  }

  function refreshInBackground(
    key: string,
    request: TokenManagerCall<C>,
    tokenType: TokenType,
    now: number,
  ): void {
    if (flights.has(key)) return;
    const failed = refreshFailures.get(key);
    if (failed !== undefined && now < failed.retryAt) return;
    const correlationId = randomUUID();
    log.verbose("refreshing a cached token in the background", { correlationId });
    refreshing.add(key);
    traceRefresh(tokenType, correlationId, pii, clock, () =>
      flights.run(key, () => fetchAndStore(key, request, tokenType, correlationId, true, refreshes.signal)),
    )
      .finally(() => refreshing.delete(key))
      .catch((error: unknown) => {
        const failures = (failed?.failures ?? 0) + 1;
        const waitMs = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(failures - 1, 30));
        refreshFailures.set(key, { failures, retryAt: clock.now() + waitMs });
        log.warn("background token refresh failed; the cached token is still served", {
          correlationId,
          code: error instanceof CertboundError ? error.code : "unknown",
          nextRefreshInMs: waitMs,
        });
      });
  }

  // A cached entry still worth serving at `now`, as a result; `undefined` sends the call to the fetcher.
  const fromCache = (
    entry: CacheEntry | undefined,
    now: number,
    started: number,
    key: string,
    request: TokenManagerCall<C>,
    tokenType: TokenType,
  ): TokenResult | undefined => {
    if (entry === undefined || !(entry.expiresAt - now > EXPIRY_BUFFER_MS) || entry.tokenType !== tokenType) {
      publishCacheLookup(entry, now, tokenType, EXPIRY_BUFFER_MS);
      return undefined;
    }
    publishCacheLookup(entry, now, tokenType, EXPIRY_BUFFER_MS);
    if (entry.refreshAt !== undefined && now >= entry.refreshAt)
      refreshInBackground(key, settled(request), tokenType, now);
    return toResult(entry, request.correlationId ?? nextCorrelationId(), now - started);
  };

  // A store shared by processes may coordinate their acquisitions (see CacheStore.coordinate):
  // either this process acquires under the store's lease, or another one did and the entry is read
  // back from the store; a miss after the wait (the other process failed) acquires here.
  async function fetchCoordinated(
    coordinate: NonNullable<CacheStore["coordinate"]>,
    key: string,
    request: TokenManagerCall<C>,
    tokenType: TokenType,
    fetch: () => Promise<TokenResult>,
  ): Promise<TokenResult> {
    let mine: Promise<TokenResult> | undefined;
    // The stored entry if it is worth serving, else a token request. Run under the lease too, not
    // only after another process's: that process may have stored the token and released its lease
    // between this one's miss and its taking the lease, and a free lease says nothing of the entry.
    const storedOrFetched = async (): Promise<TokenResult> => {
      const started = clock.now();
      const stored = await readStore(key, request.context, request.x5tS256, started);
      return fromCache(stored, clock.now(), started, key, request, tokenType) ?? fetch();
    };
    try {
      await coordinate(
        key,
        () => {
          mine ??= storedOrFetched();
          return mine.then(() => undefined);
        },
        lifetime.signal,
      );
    } catch (error) {
      if (mine === undefined) {
        throwIfAborted(lifetime.signal);
        storeFailed("coordinate", error);
      }
    }
    // Waited for another process (or the store could not coordinate): read what it stored.
    return mine ?? storedOrFetched();
  }

  async function acquireAfterLookup(
    pending: Promise<CacheEntry | undefined> | undefined,
    started: number,
    key: string,
    request: TokenManagerCall<C>,
    tokenType: TokenType,
  ): Promise<TokenResult> {
    if (pending !== undefined) {
      const hit = fromCache(await pending, clock.now(), started, key, request, tokenType);
      if (hit) return hit;
    }
    const correlationId = request.correlationId ?? randomUUID();
    // Claims requests are not shared: each carries its own challenge. Their token is stored, as
    // MSAL.NET's ClientCredentialRequest does: the cached one did not satisfy the challenge (it may
    // have been revoked), so the next plain call must not get it back.
    if (request.claims !== undefined) {
      return fetchAndStore(key, request, tokenType, correlationId, true);
    }
    // Joining a proactive refresh (forced, or the entry expired meanwhile): its waits do not keep
    // the process alive, so this caller does while it waits.
    const joinsRefresh = refreshing.has(key);
    const fetch = () => fetchAndStore(key, request, tokenType, correlationId, true);
    const flight = flights.run(
      key,
      coordinated !== undefined &&
        !request.forceRefresh &&
        (popShareable || tokenType !== MTLS_POP_TOKEN_TYPE)
        ? () => fetchCoordinated(coordinated, key, request, tokenType, fetch)
        : fetch,
      request.signal,
    );
    const result = await (joinsRefresh ? keepAliveUntilSettled(flight) : flight);
    return { ...result, metadata: { ...result.metadata, durationMs: clock.now() - started } };
  }

  // Not `async`: a hit in a synchronous store is served without awaiting anything, in an already
  // resolved promise. Errors still come back as rejections, never as throws.
  // Typed as the internal call: the public request type leaves out the hot-path hints.
  // Set while the traced path runs the untraced one (synchronously), so it does not trace twice.
  let tracing = false;
  const acquireTraced = traceAcquisition(
    (request: TokenManagerCall<C>) => {
      tracing = true;
      try {
        return acquireToken(request);
      } finally {
        tracing = false;
      }
    },
    clock,
    pii,
  );
  // One frame on a hit: the channel is asked first (a subscriber may come at any time), and with
  // nobody listening the call goes on right here, with no wrapper around the manager.
  const acquireToken = (request: TokenManagerCall<C>): Promise<TokenResult> => {
    if (!tracing && diagnostics.acquireStart.hasSubscribers) return acquireTraced(request);
    try {
      const started = request.now ?? clock.now();
      throwIfAborted(request.signal);
      const tokenType = request.tokenType ?? "Bearer";
      const slot = slotFor(request, tokenType);
      const key = slot.key;
      if (request.forceRefresh || request.claims !== undefined) {
        publishCacheLookup(null, started, tokenType, EXPIRY_BUFFER_MS);
        return acquireAfterLookup(undefined, started, key, settled(request), tokenType);
      }
      let pending: CacheEntry | undefined | Promise<CacheEntry | undefined>;
      if (local !== undefined) {
        // In process (no store): the memo's slot holds the token, nothing else on the way.
        if (!slot.live) pending = revive(slot, request, tokenType);
        else {
          if (!slot.used) slot.used = true;
          pending = slot;
        }
      } else {
        pending = readStore(key, request.context, request.x5tS256, started);
      }
      if (pending instanceof Promise)
        return acquireAfterLookup(pending, started, key, settled(request), tokenType);
      // A synchronous store answers within the same millisecond: one clock read serves the
      // expiry check and the duration (reading the clock is a noticeable part of a hit).
      const hit = fromCache(pending, started, started, key, request, tokenType);
      if (hit) return Promise.resolve(hit);
      return acquireAfterLookup(undefined, started, key, settled(request), tokenType);
    } catch (error) {
      return Promise.reject(error);
    }
  };
  const manager: TokenManager = {
    acquireToken,
    async evict(parts) {
      const key = tokenCacheKey(parts, parts.tokenType);
      if (local !== undefined) {
        local.delete(key);
        return;
      }
      decoded.delete(key);
      try {
        await external?.delete?.(key);
      } catch (error) {
        storeFailed("delete", error);
      }
    },
    close(message) {
      lifetime.abort(
        new CertboundError(
          "aborted",
          message ?? "The token manager was closed while this call was in flight; create a new one.",
        ),
      );
      refreshes.abort();
    },
  };
  return manager;
}

function resolveBackoff(option: RefreshBackoff | undefined): { initialMs: number; maxMs: number } {
  const initialMs = option?.initialMs ?? DEFAULT_REFRESH_BACKOFF.initialMs;
  const maxMs = option?.maxMs ?? Math.max(initialMs, DEFAULT_REFRESH_BACKOFF.maxMs);
  for (const [name, value] of [
    ["refreshBackoff.initialMs", initialMs],
    ["refreshBackoff.maxMs", maxMs],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 2 ** 31 - 1) {
      throw invalidOptions(
        "@certbound/core",
        `\`${name}\` must be a whole number of milliseconds from 1 to 2147483647, got ${String(value)}.`,
      );
    }
  }
  if (maxMs < initialMs) {
    throw invalidOptions(
      "@certbound/core",
      `\`refreshBackoff.maxMs\` (${maxMs}) must not be below \`refreshBackoff.initialMs\` (${initialMs}).`,
    );
  }
  return { initialMs, maxMs };
}

function validateAcquired(
  token: AcquiredToken | undefined,
  tokenType: TokenType,
  now: number,
): asserts token is AcquiredToken {
  if (!token || typeof token.accessToken !== "string" || token.accessToken.length === 0) {
    throw new CertboundError("invalid_token_response", "The token fetcher returned no access token.");
  }
  if (!(token.expiresOn instanceof Date) || Number.isNaN(token.expiresOn.getTime())) {
    throw new CertboundError(
      "invalid_token_response",
      "The token fetcher returned no valid `expiresOn` date.",
    );
  }
  // An expired token is never a success: no caller could use it, and the cache would not serve it.
  if (token.expiresOn.getTime() <= now) {
    throw new CertboundError(
      "invalid_token_response",
      `The token fetcher returned a token that has already expired (expiresOn ${token.expiresOn.toISOString()}). Check the identity provider and the system clock.`,
    );
  }
  if (token.tokenType !== tokenType) {
    throw new CertboundError(
      "token_type_mismatch",
      `Asked for a ${tokenType} token but the token fetcher returned ${token.tokenType}. A PoP request is never downgraded to Bearer.`,
    );
  }
  if (tokenType === MTLS_POP_TOKEN_TYPE && !token.bindingCertificate) {
    throw new CertboundError(
      "binding_certificate_missing",
      "The token fetcher returned an mtls_pop token without its binding certificate.",
    );
  }
}
