import { randomUUID } from "node:crypto";
import {
  CertboundError,
  type Credential,
  type GetTokenOptions,
  MTLS_POP_TOKEN_TYPE,
  systemClock,
  type TokenResult,
} from "@certbound/core";
import {
  type AcquiredToken,
  assertCorrelationId,
  assertGetTokenOptions,
  createLog,
  createTokenManager,
  type FetchRequest,
  imdsRetryPolicy,
  invalidOptions,
  type RetryPolicy,
  ThrottleGuard,
  type TokenManagerCall,
  unknownOptionError,
} from "@certbound/core/credential-kit";
import { acquireBearerToken, identityParameter, SOURCE_LABEL } from "./bearer-sources";
import { BindingCertificateCache } from "./binding-certificate-cache";
import {
  type DetectedSource,
  detectManagedIdentitySource,
  type ManagedIdentitySourceName,
} from "./detect-source";
import { identityKey } from "./identity";
import { parsePlatformMetadata, requestPlatformMetadata } from "./imds-v2";
import { certificateCacheKey, createImdsV2PopFetcher } from "./imds-v2-pop";
import { createInMemoryKeyProvider } from "./key-provider";
import { type ManagedIdentityClientOptions, resolveOptions } from "./options";
import { PACKAGE } from "./package-name";
import { type RequestContext, startBudget } from "./request-context";
import { normalizeResource, scopeForResource } from "./resource";

/**
 * One `acquireToken` call.
 *
 * @public
 * @example
 * ```ts
 * const request: ManagedIdentityTokenRequest = { resource: "https://vault.azure.net", mtlsProofOfPossession: true };
 * const result = await msi.acquireToken(request);
 * ```
 */
export interface ManagedIdentityTokenRequest {
  /**
   * The resource to get a token for, e.g. `https://vault.azure.net`. A v2 scope
   * (`https://vault.azure.net/.default`) is accepted and reduced to its resource.
   */
  readonly resource: string;
  /**
   * Ask for an mTLS PoP token bound to an IMDS-issued certificate (IMDS v2 only). Never falls
   * back to Bearer: where PoP is unavailable the call fails.
   * @default false
   */
  readonly mtlsProofOfPossession?: boolean | undefined;
  /** Skip the cache and fetch a new token. @default false */
  readonly forceRefresh?: boolean | undefined;
  /** A claims challenge (JSON) from a resource: skips the cache read (sent to the mTLS token endpoint); its token is cached. */
  readonly claims?: string | undefined;
  /** The `client-request-id` to send. @default a new UUID */
  readonly correlationId?: string | undefined;
  /** Ends this caller's wait; an acquisition shared with other callers goes on for them. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * What {@link ManagedIdentityClient.getManagedIdentitySource} reports.
 *
 * @public
 * @example
 * ```ts
 * const info = await msi.getManagedIdentitySource();
 * const result = await msi.acquireToken({ resource, mtlsProofOfPossession: info.mtlsProofOfPossession });
 * ```
 */
export interface ManagedIdentitySourceInfo {
  readonly source: ManagedIdentitySourceName;
  /** Whether this environment can issue mTLS PoP tokens (IMDS v2 answered getplatformmetadata). */
  readonly mtlsProofOfPossession: boolean;
}

/**
 * A managed-identity client; build it with {@link createManagedIdentityClient}. It is a
 * {@link Credential} (`getToken`), so `MtlsPopTokenAcquirer`, `ResourceCaller` and the adapters
 * take it as it is.
 *
 * @public
 * @example
 * ```ts
 * const msi: ManagedIdentityClient = createManagedIdentityClient({ transport, clientId: "<user-assigned client id>" });
 * try {
 *   const { accessToken } = await msi.acquireToken({ resource: "https://storage.azure.com" });
 *   const same = await msi.getToken(["https://storage.azure.com/.default"]); // the Credential method
 * } finally {
 *   await msi.close();
 * }
 * ```
 */
export interface ManagedIdentityClient extends Credential {
  /** A token for `resource`, from the cache when a usable one is there. The MSAL-shaped entry point. */
  acquireToken(request: ManagedIdentityTokenRequest): Promise<TokenResult>;
  /**
   * The {@link Credential} method: exactly one scope, mapped to its resource the way MSAL's managed
   * identity does (`/.default` stripped), then the same as `acquireToken({ ...options, resource })`,
   * at the same cost on a cache hit. More or fewer than one scope fail with `invalid_options`.
   */
  getToken(scopes: readonly string[], options?: GetTokenOptions): Promise<TokenResult>;
  /**
   * Which source this environment uses and whether it can issue mTLS PoP tokens. For IMDS this
   * sends one getplatformmetadata probe (a 404 means IMDS v1 only; it is not retried).
   */
  getManagedIdentitySource(options?: {
    signal?: AbortSignal | undefined;
  }): Promise<ManagedIdentitySourceInfo>;
  /**
   * Aborts acquisitions in flight and forgets cached certificates and in-memory keys; later calls
   * fail with `aborted`. Idempotent. The transport is yours: close it yourself.
   */
  close(): Promise<void>;
  /** Same as {@link ManagedIdentityClient.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

// The capability probe: a v1-only VM answers 404 for good, so that status is not worth 7 s of retries.
const CLOSED = `${PACKAGE}: the client was closed (close() was called), which ended this call; create a new client.`;

const probePolicy: RetryPolicy = {
  name: "imds_probe",
  delayBeforeRetry: (retry, outcome, now) =>
    outcome.response?.status === 404 ? undefined : imdsRetryPolicy.delayBeforeRetry(retry, outcome, now),
};

/**
 * Creates a managed-identity client. It detects the source from the environment (App Service,
 * Service Fabric, Machine Learning, Cloud Shell, Azure Arc, else IMDS) and gets Bearer tokens from
 * any of them, and mTLS PoP tokens through IMDS v2: an RSA key, a certificate request, an
 * IMDS-issued binding certificate, and a token request over mutual TLS with it.
 *
 * @public
 * @example
 * ```ts
 * import { createManagedIdentityClient } from "@certbound/credential-msi";
 * import { createUndiciTransport } from "@certbound/http-undici";
 *
 * const transport = createUndiciTransport();
 * const msi = createManagedIdentityClient({ transport });
 * const result = await msi.acquireToken({ resource: "https://vault.azure.net", mtlsProofOfPossession: true });
 * const response = await transport.send({
 *   method: "GET",
 *   url: "https://myvault.vault.azure.net/secrets/app?api-version=7.5",
 *   headers: { authorization: `Bearer ${result.accessToken}` },
 *   clientIdentity: result.bindingCertificate,
 * });
 * ```
 */
export function createManagedIdentityClient(options: ManagedIdentityClientOptions): ManagedIdentityClient {
  const resolved = resolveOptions(options);
  const clock = resolved.clock ?? systemClock;
  const log = createLog(resolved.logger);
  const ctx: RequestContext = {
    transport: resolved.transport,
    clock,
    timeoutMs: resolved.timeoutMs,
    localTimeoutMs: resolved.localTimeoutMs,
    acquisitionTimeoutMs: resolved.acquisitionTimeoutMs,
    ca: resolved.ca,
    log,
  };
  const source: DetectedSource = detectManagedIdentitySource({
    env: resolved.env,
    imdsEndpoint: resolved.imdsEndpoint,
    fileExists: resolved.fileExists,
    platform: process.platform,
  });
  log.verbose("managed identity source detected", { source: source.name });

  // Generates nothing until asked, so it costs nothing when a key provider was given.
  const ownKeys = createInMemoryKeyProvider();
  const keyProvider = resolved.keyProvider ?? ownKeys;
  // The RSA key of a first PoP acquisition takes longer than its IMDS and token round trips: start
  // it now, in a worker thread that neither blocks the event loop nor keeps the process alive, and
  // that fails nothing if no PoP token is ever asked for. Only IMDS issues PoP tokens.
  if (resolved.keyProvider === undefined && source.name === "imds") {
    ownKeys.prepare(identityKey(resolved.identity));
  }
  const certificates = new BindingCertificateCache(clock);
  const identity = resolved.identity;
  const popFetcher = createImdsV2PopFetcher({
    ctx,
    endpoint: resolved.imdsEndpoint,
    identity,
    keyProvider,
    certificates,
    throttle: new ThrottleGuard(clock),
    attestationProvider: resolved.attestationProvider,
    mtlsAuthorityHost: resolved.mtlsAuthorityHost,
  });

  const bearerFetcher = async (request: FetchRequest): Promise<AcquiredToken> => {
    const token = await acquireBearerToken(ctx, {
      source,
      identity,
      resource: request.scopes[0] as string,
      correlationId: request.correlationId,
      signal: request.signal,
      budget: startBudget(ctx, request.correlationId),
      arcTokenFolder: resolved.arcTokenFolder,
    });
    return {
      accessToken: token.accessToken,
      tokenType: "Bearer",
      expiresOn: token.expiresOn,
      refreshOn: token.refreshOn,
    };
  };

  const manager = createTokenManager({
    fetcher: (request) =>
      request.tokenType === MTLS_POP_TOKEN_TYPE ? popFetcher(request) : bearerFetcher(request),
    cache: resolved.cache,
    clock,
    logger: resolved.logger,
    // A PoP token read from a shared store is served only while this client holds its binding
    // certificate (and key) in memory: another instance's token is a miss here.
    resolveBindingCertificate: (x5tS256) => {
      const current = certificates.peek(certKey);
      return current?.binding.x5tS256 === x5tS256 ? current.binding : undefined;
    },
    // The binding key lives in this process only: its PoP tokens never leave it, whatever store the app passes.
    popTokensShareable: false,
  });
  // Tokens of one identity from one endpoint: two clients for different identities or endpoints
  // can share a cache store without ever seeing each other's tokens.
  const cacheClientId = identityKey(identity);
  const cacheAuthority = `${source.name}:${source.endpoint}`;
  // PoP tokens also depend on where they were requested: an app-configured mTLS host keys them apart.
  const popCacheAuthority =
    resolved.mtlsAuthorityHost === undefined
      ? cacheAuthority
      : `${cacheAuthority}|${resolved.mtlsAuthorityHost}`;
  const certKey = certificateCacheKey(identity, resolved.imdsEndpoint);
  let closed = false;
  // The token manager finds a cached token by the resource exactly as the app passed it (a scope
  // alias): a hit neither normalises the resource nor looks up its scope list, and the lists are
  // made only when the cache has no token for that string yet. They are frozen: they go into the
  // cache and back to callers as `TokenResult.scopes`.
  const bearerScopesOf = (resource: string): readonly string[] =>
    Object.freeze([normalizeResource(resource)]);
  const popScopesOf = (resource: string): readonly string[] =>
    Object.freeze([scopeForResource(normalizeResource(resource))]);
  // What `scopes` holds in an aliased call: the manager takes the real list from `scopesOf`.
  const ALIASED: readonly string[] = Object.freeze([]);
  const checkResource = (input: unknown): string => {
    // A non-string never reaches the cache: it fails here, with the same message as always.
    if (typeof input !== "string") normalizeResource(input);
    return input as string;
  };
  // Whether this source can serve this identity depends on neither the request nor time: once it
  // passed it always passes (a failure is checked, and thrown, again on every call).
  let identitySupported = false;

  const ensureOpen = () => {
    if (closed) {
      throw new CertboundError("aborted", CLOSED);
    }
  };

  // Not `async`: a cache hit hands back the token manager's promise itself instead of wrapping it
  // in another one. Every error, validation included, still comes back as a rejection.
  // After the request's keys were checked: the fields one by one, so `getToken` needs no request
  // object in between (building one and walking its keys again cost a share of a cache hit).
  const acquireChecked = (
    resource: unknown,
    pop: unknown,
    forceRefresh: unknown,
    claims: unknown,
    correlationId: unknown,
    signal: unknown,
  ): Promise<TokenResult> => {
    try {
      ensureOpen();
      checkFields(pop, forceRefresh, claims, correlationId, signal);
      const scopeAlias = checkResource(resource);
      if (pop === true) {
        if (source.name !== "imds") {
          throw new CertboundError(
            "mtls_pop_not_supported_for_environment",
            `mTLS PoP tokens come only from IMDS v2 on Azure VMs and scale sets; this environment uses ${SOURCE_LABEL[source.name]}. Request a Bearer token here (leave \`mtlsProofOfPossession\` off).`,
          );
        }
        // One clock reading for the certificate's remaining validity and the token's expiry.
        const now = clock.now();
        const current = certificates.peek(certKey, now);
        // The clock reading rides along as an internal hint (TokenManagerCall).
        const call: TokenManagerCall = {
          clientId: cacheClientId,
          authority: popCacheAuthority,
          scopes: ALIASED,
          scopeAlias,
          scopesOf: popScopesOf,
          tokenType: MTLS_POP_TOKEN_TYPE,
          x5tS256: current?.binding.x5tS256,
          forceRefresh: forceRefresh as ManagedIdentityTokenRequest["forceRefresh"],
          claims: claims as ManagedIdentityTokenRequest["claims"],
          correlationId: correlationId as ManagedIdentityTokenRequest["correlationId"],
          signal: signal as ManagedIdentityTokenRequest["signal"],
          now,
        };
        return manager.acquireToken(call);
      }
      // Fails before any network call when the source cannot serve this identity.
      if (!identitySupported) {
        identityParameter(source, identity);
        identitySupported = true;
      }
      const call: TokenManagerCall = {
        clientId: cacheClientId,
        authority: cacheAuthority,
        scopes: ALIASED,
        scopeAlias,
        scopesOf: bearerScopesOf,
        tokenType: "Bearer",
        forceRefresh: forceRefresh as ManagedIdentityTokenRequest["forceRefresh"],
        claims: claims as ManagedIdentityTokenRequest["claims"],
        correlationId: correlationId as ManagedIdentityTokenRequest["correlationId"],
        signal: signal as ManagedIdentityTokenRequest["signal"],
      };
      return manager.acquireToken(call);
    } catch (error) {
      return Promise.reject(error);
    }
  };
  const acquireToken = (request: ManagedIdentityTokenRequest): Promise<TokenResult> => {
    try {
      ensureOpen();
      checkRequestKeys(request);
    } catch (error) {
      return Promise.reject(error);
    }
    return acquireChecked(
      request.resource,
      request.mtlsProofOfPossession,
      request.forceRefresh,
      request.claims,
      request.correlationId,
      request.signal,
    );
  };
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    // Calls in flight fail with `aborted` saying the client was closed, not that "its
    // AbortSignal" fired: their callers passed none.
    manager.close(CLOSED);
    certificates.clear();
    ownKeys.clear();
  };

  return {
    acquireToken,
    // The Credential method: MSAL maps a managed identity's scope to its resource by stripping
    // `/.default`, which `acquireToken` already does to a scope passed as `resource`.
    getToken: (scopes, options) => {
      if (!Array.isArray(scopes) || scopes.length !== 1) {
        return Promise.reject(
          invalidOptions(
            PACKAGE,
            'A managed identity issues a token for exactly one resource: pass one scope, e.g. ["https://vault.azure.net/.default"].',
          ),
        );
      }
      const resource = scopes[0] as string;
      if (options !== undefined) {
        try {
          assertGetTokenOptions(PACKAGE, options);
        } catch (error) {
          return Promise.reject(error);
        }
      }
      if (options === undefined)
        return acquireChecked(resource, undefined, undefined, undefined, undefined, undefined);
      return acquireChecked(
        resource,
        options.mtlsProofOfPossession,
        options.forceRefresh,
        options.claims,
        options.correlationId,
        options.signal,
      );
    },
    async getManagedIdentitySource(probe = {}) {
      ensureOpen();
      if (source.name !== "imds") return { source: source.name, mtlsProofOfPossession: false };
      const correlationId = randomUUID();
      const response = await requestPlatformMetadata(
        ctx,
        {
          endpoint: resolved.imdsEndpoint,
          identity,
          correlationId,
          signal: probe.signal,
          budget: startBudget(ctx, correlationId),
        },
        probePolicy,
      );
      if (response.status === 404) return { source: "imds", mtlsProofOfPossession: false };
      parsePlatformMetadata(response, clock.now(), correlationId);
      return { source: "imds", mtlsProofOfPossession: true };
    },

    close,
    [Symbol.asyncDispose]: close,
  };
}

// The keys of ManagedIdentityTokenRequest, for the message (`satisfies`: none missing, none
// extra); keep the switch in checkRequest in step.
const REQUEST_KEYS = Object.keys({
  resource: true,
  mtlsProofOfPossession: true,
  forceRefresh: true,
  claims: true,
  correlationId: true,
  signal: true,
} satisfies Record<keyof ManagedIdentityTokenRequest, true>);

function checkRequestKeys(request: ManagedIdentityTokenRequest): void {
  if (typeof request !== "object" || request === null) {
    throw invalidOptions(
      PACKAGE,
      '`acquireToken` takes an object, e.g. `{ resource: "https://vault.azure.net" }`.',
    );
  }
  // A misspelt key (`mtlsProofOfPossesion: true`) would otherwise turn a PoP request into a
  // Bearer one without a word. This runs on every cache hit: `for...in` over a literal walks V8's
  // cached key list and the switch compares interned strings, so nothing is allocated.
  for (const key in request) {
    switch (key) {
      case "resource":
      case "mtlsProofOfPossession":
      case "forceRefresh":
      case "claims":
      case "correlationId":
      case "signal":
        continue;
      default:
        throw unknownOptionError(PACKAGE, key, REQUEST_KEYS, "the acquireToken request");
    }
  }
}

// The field checks of a request (or of getToken's options), after its keys were checked.
function checkFields(
  mtlsProofOfPossession: unknown,
  forceRefresh: unknown,
  claims: unknown,
  correlationId: unknown,
  signal: unknown,
): void {
  const fail = (message: string) => invalidOptions(PACKAGE, message);
  // Spelled out rather than looped over a list of names: this runs on every cache hit.
  if (mtlsProofOfPossession !== undefined && typeof mtlsProofOfPossession !== "boolean") {
    throw fail("`mtlsProofOfPossession` must be a boolean.");
  }
  if (forceRefresh !== undefined && typeof forceRefresh !== "boolean") {
    throw fail("`forceRefresh` must be a boolean.");
  }
  if (claims !== undefined && (typeof claims !== "string" || claims === "")) {
    throw fail("`claims` must be the JSON text of a claims challenge.");
  }
  // Before any I/O: CR/LF would become a retried network error (undici) or a rewritten header (axios).
  if (correlationId !== undefined) assertCorrelationId(PACKAGE, correlationId);
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw fail("`signal` must be an AbortSignal.");
  }
}
