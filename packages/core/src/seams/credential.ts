import { unknownOptionError } from "../options/unknown-keys";
import { MTLS_POP_TOKEN_TYPE, type TokenResult } from "./result";
import type { AcquiredToken, FetchRequest } from "./token-fetcher";

/**
 * Options of one {@link Credential.getToken} call.
 *
 * @public
 * @example
 * ```ts
 * const options: GetTokenOptions = { mtlsProofOfPossession: true, signal: AbortSignal.timeout(10_000) };
 * const result = await credential.getToken(["https://vault.azure.net/.default"], options);
 * ```
 */
export interface GetTokenOptions {
  /**
   * Ask for an mTLS PoP token bound to a certificate (`tokenType` `"mtls_pop"`, with
   * `bindingCertificate`) instead of a Bearer token. Never downgraded: where PoP is unavailable the
   * call fails.
   * @default false
   */
  readonly mtlsProofOfPossession?: boolean | undefined;
  /** A claims challenge (JSON text) from a resource: skips the cache read; its token replaces the cached one. */
  readonly claims?: string | undefined;
  /** Skip the cache and ask the identity provider for a new token. @default false */
  readonly forceRefresh?: boolean | undefined;
  /** The `client-request-id` to send. @default a new UUID */
  readonly correlationId?: string | undefined;
  /** Ends this caller's wait (an acquisition shared with other callers goes on for them). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * The one interface every credential implements and everything downstream accepts:
 * `MtlsPopTokenAcquirer`, `ResourceCaller`, `createTokenManager` (as its `source`) and the adapters
 * built on this contract. Both `createConfidentialClient` (`@certbound/credential-cert`) and
 * `createManagedIdentityClient` (`@certbound/credential-msi`) implement it next to their MSAL-shaped
 * methods; a credential of your own is any object with this one method.
 *
 * `scopes` are v2 scopes (`https://vault.azure.net/.default`). A managed identity takes exactly one
 * and maps it to its resource the way MSAL does (it strips `/.default`). The result is a
 * {@link TokenResult}: not an `@azure/core-auth` `AccessToken`, so a certbound credential is not an
 * Azure SDK `TokenCredential` even though the method has the same name.
 *
 * @public
 * @example
 * ```ts
 * const credential: Credential = {
 *   async getToken(scopes, options) {
 *     const { token, expiresInSeconds } = await myIssuer.issue(scopes, options?.signal);
 *     return {
 *       accessToken: token,
 *       tokenType: "Bearer",
 *       expiresOn: new Date(Date.now() + expiresInSeconds * 1000),
 *       scopes,
 *       metadata: { tokenSource: "identity_provider", correlationId: options?.correlationId ?? randomUUID(), durationMs: 0 },
 *     };
 *   },
 * };
 * ```
 */
export interface Credential {
  getToken(scopes: readonly string[], options?: GetTokenOptions): Promise<TokenResult>;
}

/**
 * Whether `value` implements {@link Credential} (has a `getToken` function). Other objects that
 * have one too (an Azure SDK `TokenCredential`) pass this check; their results fail later checks.
 *
 * @public
 * @example
 * ```ts
 * if (isCredential(input)) result = await input.getToken(scopes, { mtlsProofOfPossession: true });
 * ```
 */
export function isCredential(value: unknown): value is Credential {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { getToken?: unknown }).getToken === "function"
  );
}

/**
 * Adapts a {@link Credential} to the token manager's source seam: what a `createTokenManager`
 * built on a credential calls on a miss. The credential's own cache may answer; a claims request
 * reaches it with its claims, so it skips its cache too.
 *
 * @internal
 * @example
 * ```ts
 * const acquire = credentialFetcher(credential);
 * const token = await acquire({ scopes, tokenType: "Bearer", correlationId, signal });
 * ```
 */
export function credentialFetcher<C>(
  credential: Credential,
): (request: FetchRequest<C>) => Promise<AcquiredToken> {
  return async (request) => {
    const result = await credential.getToken(request.scopes, {
      mtlsProofOfPossession: request.tokenType === MTLS_POP_TOKEN_TYPE,
      claims: request.claims,
      correlationId: request.correlationId,
      signal: request.signal,
    });
    return {
      accessToken: result.accessToken,
      tokenType: result.tokenType,
      expiresOn: result.expiresOn,
      refreshOn: result.refreshOn,
      tenantId: result.tenantId,
      bindingCertificate: result.bindingCertificate,
      tokenEndpoint: result.metadata?.tokenEndpoint,
    };
  };
}

// Every key of GetTokenOptions (`satisfies`: none missing, none extra), for the error message.
const GET_TOKEN_KEYS = Object.keys({
  mtlsProofOfPossession: true,
  claims: true,
  forceRefresh: true,
  correlationId: true,
  signal: true,
} satisfies Record<keyof GetTokenOptions, true>);

/**
 * Throws `invalid_options` naming the closest known key when `options` has a key
 * {@link GetTokenOptions} does not: a misspelt `mtlsProofOfPossesion` must not turn a PoP request
 * into a Bearer one. Allocates nothing when every key is known (it sits on the cache-hit path).
 *
 * @public
 * @example
 * ```ts
 * getToken(scopes, options) {
 *   if (options !== undefined) assertGetTokenOptions("@my-scope/my-credential", options);
 *   return myAcquire(scopes, options);
 * }
 * ```
 */
export function assertGetTokenOptions(packageName: string, options: GetTokenOptions): void {
  for (const key in options) {
    switch (key) {
      case "mtlsProofOfPossession":
      case "claims":
      case "forceRefresh":
      case "correlationId":
      case "signal":
        continue;
      default:
        throw unknownOptionError(packageName, key, GET_TOKEN_KEYS, "the getToken options");
    }
  }
}
