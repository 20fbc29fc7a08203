import {
  CertboundError,
  type Credential,
  type GetTokenOptions,
  MTLS_POP_TOKEN_TYPE,
  type TokenResult,
} from "@certbound/core";
import {
  type AcquiredToken,
  AcquisitionBudget,
  assertGetTokenOptions,
  buildTokenRequest,
  createLog,
  createTokenManager,
  type FetchRequest,
  parseTokenResponse,
  sendWithRetry,
  ThrottleGuard,
  type TokenManagerCall,
  tokenEndpointRetryPolicy,
} from "@certbound/core/credential-kit";
import { createCertificateResolver } from "./certificate-resolver";
import { createClientAssertion } from "./client-assertion";
import type { LoadedCertificate } from "./load-certificate";
import type { AcquireTokenForClientRequest, ConfidentialClientOptions } from "./options";
import { PACKAGE } from "./package-name";
import { detectRegion } from "./region";
import { tokenErrorHint } from "./service-hints";
import { bearerTokenEndpoint, mtlsTokenEndpoint, overriddenTokenEndpoint } from "./token-endpoints";
import { validateOptions } from "./validate-options";
import { createRequestValidator } from "./validate-request";

/**
 * A confidential client application authenticating with an X.509 certificate. It is a
 * {@link Credential} (`getToken`), so `MtlsPopTokenAcquirer`, `ResourceCaller` and the adapters
 * take it as it is.
 *
 * @public
 * @example
 * ```ts
 * const app: ConfidentialClient = createConfidentialClient({ clientId, authority, certificate, transport });
 * try {
 *   const result = await app.acquireTokenForClient({ scopes: ["https://vault.azure.net/.default"], mtlsProofOfPossession: true });
 * } finally {
 *   await app.close();
 * }
 * ```
 */
export interface ConfidentialClient extends Credential {
  /**
   * An app token (client credentials): mTLS PoP bound to the certificate with
   * `mtlsProofOfPossession: true`, Bearer otherwise. Served from the cache while it is valid.
   * The MSAL-shaped entry point.
   */
  acquireTokenForClient(request: AcquireTokenForClientRequest): Promise<TokenResult>;
  /**
   * The {@link Credential} method: the same as
   * `acquireTokenForClient({ ...options, scopes })`, at the same cost on a cache hit.
   */
  getToken(scopes: readonly string[], options?: GetTokenOptions): Promise<TokenResult>;
  /**
   * Aborts acquisitions in flight; later calls fail with `aborted`. Idempotent. The transport is
   * yours: close it yourself.
   */
  close(): Promise<void>;
  /** Same as {@link ConfidentialClient.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

const CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const WHAT = "Entra ID's token endpoint";
const CLOSED = `${PACKAGE}: the client was closed (close() was called), which ended this call; create a new client.`;

/**
 * Creates a confidential client that gets app tokens with a certificate, like MSAL's
 * `ConfidentialClientApplication` with `WithCertificate` (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s2-confidential-client). PoP requests go
 * over mutual TLS to the `mtlsauth` host with the certificate as TLS client identity and no client
 * assertion; Bearer requests go to the regular host with a signed client assertion.
 * Options are validated and a fixed certificate is parsed right away.
 *
 * @public
 * @example
 * ```ts
 * const app = createConfidentialClient({
 *   clientId: "00000000-0000-0000-0000-000000000001",
 *   authority: "https://login.microsoftonline.com/contoso.onmicrosoft.com",
 *   certificate: { pfx: readFileSync("app.pfx"), passphrase: process.env.PFX_PASSPHRASE },
 *   azureRegion: "auto",
 *   transport: createUndiciTransport(),
 * });
 * const result = await app.acquireTokenForClient({ scopes: ["https://vault.azure.net/.default"], mtlsProofOfPossession: true });
 * ```
 */
export function createConfidentialClient(options: ConfidentialClientOptions): ConfidentialClient {
  const o = validateOptions(options);
  const { clock, transport, authority } = o;
  const log = createLog(o.logger);
  const resolver = createCertificateResolver(o.certificate, clock.now());
  const throttle = new ThrottleGuard(clock);
  const lifetime = new AbortController();
  let closed = false;

  if (o.region.mode === "global" && o.region.reason === "invalid") {
    log.warn(
      "ignoring the configured region (`azureRegion` or MSAL_FORCE_REGION): a region name has letters and digits only; using the global endpoints",
    );
  }
  // Operators set MSAL_FORCE_REGION / MSAL_DISABLE_REGION outside the code: say what they decided.
  log.verbose("regional endpoints", {
    mode: o.region.mode,
    region: o.region.mode === "fixed" ? o.region.region : undefined,
    from:
      o.region.mode === "fixed" ? o.region.source : o.region.mode === "global" ? o.region.reason : undefined,
  });
  let detection: Promise<string | undefined> | undefined;
  const region = (): Promise<string | undefined> => {
    if (o.region.mode === "fixed") return Promise.resolve(o.region.region);
    if (o.region.mode === "global") return Promise.resolve(undefined);
    detection ??= detectRegion({
      env: o.env,
      imdsEndpoint: o.imdsEndpoint,
      transport,
      signal: lifetime.signal,
      log,
    }).then((found) => {
      log.info("azure region auto-detection finished", {
        region: found?.region ?? "global",
        source: found?.source,
      });
      return found?.region;
    });
    return detection;
  };

  const tokenEndpoint = async (pop: boolean): Promise<string> => {
    if (pop) {
      return o.mtlsAuthorityHost
        ? overriddenTokenEndpoint(o.mtlsAuthorityHost, authority.tenant)
        : mtlsTokenEndpoint({ authority, region: await region() });
    }
    return o.authorityHost
      ? overriddenTokenEndpoint(o.authorityHost, authority.tenant)
      : bearerTokenEndpoint({ authority, region: await region() });
  };

  // `context` is the certificate a PoP call resolved for its cache key: the provider runs once per call.
  const source = async (request: FetchRequest<LoadedCertificate>): Promise<AcquiredToken> => {
    const pop = request.tokenType === MTLS_POP_TOKEN_TYPE;
    const certificate = request.context ?? (await resolver.current(clock.now(), pop));
    const url = await tokenEndpoint(pop);
    // Started after region detection, which is shared by every call and bounded on its own.
    const budget = new AcquisitionBudget({
      clock,
      budgetMs: o.acquisitionTimeoutMs,
      optionName: "acquisitionTimeoutMs",
      correlationId: request.correlationId,
    });
    const scope = request.scopes.join(" ");
    const form: Record<string, string | undefined> = pop
      ? {
          client_id: o.clientId,
          grant_type: "client_credentials",
          scope,
          client_info: "2",
          token_type: MTLS_POP_TOKEN_TYPE,
          claims: request.claims,
        }
      : {
          client_id: o.clientId,
          grant_type: "client_credentials",
          scope,
          client_assertion_type: CLIENT_ASSERTION_TYPE,
          client_assertion: createClientAssertion({
            clientId: o.clientId,
            audience: url,
            chain: certificate.chain,
            privateKey: certificate.binding.privateKey,
            x5tS256: certificate.binding.x5tS256,
            now: clock.now(),
            sendX5c: o.sendX5c,
            algorithm: o.assertionAlgorithm,
          }),
          client_info: "2",
          claims: request.claims,
        };
    log.verbose("requesting a token", {
      tokenType: request.tokenType,
      // The path names the tenant: an identifier, shown only with PII logging on.
      endpoint: log.pii(url),
      correlationId: request.correlationId,
    });
    const tokenRequest = buildTokenRequest({
      url,
      form,
      correlationId: request.correlationId,
      clientIdentity: pop ? certificate.binding : undefined,
      ca: o.ca,
      timeoutMs: o.timeoutMs,
    });
    const response = await sendWithRetry(transport, tokenRequest, {
      policy: tokenEndpointRetryPolicy,
      clock,
      signal: request.signal,
      budget,
      throttle: {
        guard: throttle,
        key: [
          request.tokenType,
          url,
          o.clientId,
          [...request.scopes].sort().join(" "),
          pop ? certificate.binding.x5tS256 : "",
          request.claims ?? "",
        ].join("\u0000"),
      },
      onRetry: (event) =>
        log.info("retrying the token request", {
          retry: event.retry,
          delayMs: event.delayMs,
          status: event.status,
          errorCode: event.errorCode,
          correlationId: request.correlationId,
        }),
    });
    const parsed = parseTokenResponse(response, {
      expectedTokenType: request.tokenType,
      now: clock.now(),
      correlationId: request.correlationId,
      what: WHAT,
      // A hostile endpoint may echo the client assertion it was sent: the error path redacts it.
      sent: tokenRequest,
      hint: (errorCode, _status, errorCodes) =>
        tokenErrorHint(
          errorCode,
          { pop, sendX5c: o.sendX5c, thumbprintSha1: certificate.thumbprintSha1 },
          errorCodes,
        ),
    });
    return {
      accessToken: parsed.accessToken,
      tokenType: parsed.tokenType,
      expiresOn: parsed.expiresOn,
      refreshOn: parsed.refreshOn,
      tenantId: authority.tenant,
      bindingCertificate: pop ? certificate.binding : undefined,
      tokenEndpoint: url,
    };
  };

  const manager = createTokenManager<LoadedCertificate>({
    fetcher: source,
    cache: o.cache,
    clock,
    logger: o.logger,
    // A PoP token read from a shared store is served only with the certificate this call resolved
    // (the app's own, with its key): the store holds its thumbprint, never the key.
    resolveBindingCertificate: (x5tS256, certificate) =>
      certificate?.binding.x5tS256 === x5tS256 ? certificate.binding : undefined,
  });
  // The cache key names the token endpoint's host when the app overrides it: two clients that
  // differ only in `authorityHost` / `mtlsAuthorityHost` (two clouds, an emulator and Entra) never
  // serve each other's tokens from a shared store. Built once, so a hit compares the same string.
  const bearerCacheAuthority = o.authorityHost
    ? `${authority.canonical} via ${o.authorityHost}`
    : authority.canonical;
  const popCacheAuthority = o.mtlsAuthorityHost
    ? `${authority.canonical} via ${o.mtlsAuthorityHost}`
    : authority.canonical;

  const validateRequest = createRequestValidator();
  // The cloud's mTLS support depends on the authority only: once it passed, it always passes.
  let mtlsEndpointChecked = Boolean(o.mtlsAuthorityHost);
  // Fields passed one by one, not as a request object: `getToken` has none to pass.
  const acquire = (
    scopes: readonly string[],
    certificate: LoadedCertificate | undefined,
    now: number | undefined,
    forceRefresh: unknown,
    claims: string | undefined,
    correlationId: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<TokenResult> => {
    // The certificate and clock reading ride along as internal hints (TokenManagerCall).
    const call: TokenManagerCall<LoadedCertificate> = {
      clientId: o.clientId,
      authority: certificate ? popCacheAuthority : bearerCacheAuthority,
      scopes,
      tokenType: certificate ? MTLS_POP_TOKEN_TYPE : "Bearer",
      x5tS256: certificate?.binding.x5tS256,
      forceRefresh: forceRefresh === true,
      claims,
      correlationId,
      signal,
      context: certificate,
      now,
    };
    return manager.acquireToken(call);
  };

  // After validation: the same path for both entry points. Not `async`: a cache hit hands back the
  // token manager's promise itself instead of wrapping it in another one (each wrapper costs turns
  // of the microtask queue). Errors still reject.
  const acquireValidated = (
    scopes: readonly string[],
    pop: unknown,
    forceRefresh: unknown,
    claims: string | undefined,
    correlationId: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<TokenResult> => {
    if (pop !== true)
      return acquire(scopes, undefined, undefined, forceRefresh, claims, correlationId, signal);
    // Refuse clouds without an mTLS endpoint before touching the certificate or the network.
    if (!mtlsEndpointChecked) {
      mtlsTokenEndpoint({ authority });
      mtlsEndpointChecked = true;
    }
    // A fixed certificate is checked right here, against the same clock reading the token
    // manager then uses for the token's expiry; a provider is asked on every call.
    if (resolver.currentSync) {
      const now = clock.now();
      return acquire(scopes, resolver.currentSync(now), now, forceRefresh, claims, correlationId, signal);
    }
    // The provider is awaited: the caller's array may change meanwhile, so what was checked is copied.
    const checked = Object.isFrozen(scopes) ? scopes : Object.freeze([...scopes]);
    return resolver
      .current(clock.now(), true)
      .then((certificate) =>
        acquire(checked, certificate, undefined, forceRefresh, claims, correlationId, signal),
      );
  };

  const acquireTokenForClient = (request: AcquireTokenForClientRequest): Promise<TokenResult> => {
    try {
      if (closed) {
        throw new CertboundError("aborted", CLOSED);
      }
      const scopes = validateRequest(request);
      // The common case written out (a fixed certificate, PoP): one call less than acquireValidated.
      if (request.mtlsProofOfPossession === true && mtlsEndpointChecked && resolver.currentSync) {
        const now = clock.now();
        return acquire(
          scopes,
          resolver.currentSync(now),
          now,
          request.forceRefresh,
          request.claims,
          request.correlationId,
          request.signal,
        );
      }
      return acquireValidated(
        scopes,
        request.mtlsProofOfPossession,
        request.forceRefresh,
        request.claims,
        request.correlationId,
        request.signal,
      );
    } catch (error) {
      return Promise.reject(error);
    }
  };
  const close = async (): Promise<void> => {
    closed = true;
    // Calls in flight fail with `aborted` saying the client was closed, not that "its
    // AbortSignal" fired: their callers passed none.
    lifetime.abort(new CertboundError("aborted", CLOSED));
    manager.close(CLOSED);
  };

  return {
    acquireTokenForClient,
    // The Credential method: the same checks and the same path, without a request object in
    // between (building one and walking its keys again cost a share of a cache hit).
    getToken: (scopes, options) => {
      try {
        if (closed) {
          throw new CertboundError("aborted", CLOSED);
        }
        if (options === undefined) {
          return acquireValidated(
            validateRequest.fields(scopes, undefined, undefined, undefined),
            undefined,
            undefined,
            undefined,
            undefined,
            undefined,
          );
        }
        assertGetTokenOptions(PACKAGE, options);
        return acquireValidated(
          validateRequest.fields(
            scopes,
            options.mtlsProofOfPossession,
            options.claims,
            options.correlationId,
          ),
          options.mtlsProofOfPossession,
          options.forceRefresh,
          options.claims,
          options.correlationId,
          options.signal,
        );
      } catch (error) {
        return Promise.reject(error);
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
