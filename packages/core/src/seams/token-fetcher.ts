import type { BindingCertificate, TokenType } from "./result";

/**
 * What a {@link TokenFetcher} is asked for: one network acquisition. `C` is whatever the
 * credential passed as `context` with the call that started it (e.g. the certificate it resolved).
 * @public
 */
export interface FetchRequest<C = undefined> {
  readonly scopes: readonly string[];
  readonly tokenType: TokenType;
  /** A claims challenge (JSON) to send, when the caller passed one. */
  readonly claims?: string | undefined;
  /** The `client-request-id` to send. */
  readonly correlationId: string;
  /** Fires when the token manager is closed. Individual callers' signals do not reach here. */
  readonly signal: AbortSignal;
  /**
   * The `context` of the `acquireToken` call that started this acquisition: a hot-path hint of
   * certbound's own credentials (see `TokenManagerCall`), not part of the public contract.
   * @internal
   */
  readonly context?: C | undefined;
}

/**
 * A token as a fetcher acquired it, before caching.
 *
 * @public
 */
export interface AcquiredToken {
  readonly accessToken: string;
  readonly tokenType: TokenType;
  readonly expiresOn: Date;
  readonly refreshOn?: Date | undefined;
  readonly tenantId?: string | undefined;
  /** Required when `tokenType` is `"mtls_pop"`. */
  readonly bindingCertificate?: BindingCertificate | undefined;
  readonly tokenEndpoint?: string | undefined;
}

/**
 * The credential seam: performs one network acquisition. It knows its protocol and nothing about
 * caching; `createTokenManager` adds the cache, single-flight and background refresh.
 *
 * @public
 * @example
 * ```ts
 * const source: TokenFetcher = async ({ scopes, correlationId }) => {
 *   const { token, expiresInSeconds } = await myIssuer.issue(scopes, correlationId);
 *   return { accessToken: token, tokenType: "Bearer", expiresOn: new Date(Date.now() + expiresInSeconds * 1000) };
 * };
 * ```
 */
export type TokenFetcher<C = undefined> =
  | ((request: FetchRequest<C>) => Promise<AcquiredToken>)
  | { acquire(request: FetchRequest<C>): Promise<AcquiredToken> };

/**
 * The former name of {@link TokenFetcher}.
 *
 * @deprecated Use `TokenFetcher`: "source" now means only a managed identity's source and
 * `metadata.tokenSource`. Removed before 1.0.
 * @example
 * ```ts
 * const fetcher: TokenFetcher = oldSource satisfies CredentialSource;
 * ```
 * @public
 */
export type CredentialSource<C = undefined> = TokenFetcher<C>;

/**
 * The former name of {@link FetchRequest}.
 *
 * @deprecated Use `FetchRequest`. Removed before 1.0.
 * @example
 * ```ts
 * const request: FetchRequest = oldRequest satisfies SourceRequest;
 * ```
 * @public
 */
export type SourceRequest<C = undefined> = FetchRequest<C>;
