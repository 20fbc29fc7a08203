import type { BindingCertificate, TokenType } from "./result";

/**
 * What a {@link CredentialSource} is asked for: one network acquisition. `C` is whatever the
 * credential passed as `context` with the call that started it (e.g. the certificate it resolved).
 */
export interface SourceRequest<C = undefined> {
  readonly scopes: readonly string[];
  readonly tokenType: TokenType;
  /** A claims challenge (JSON) to send, when the caller passed one. */
  readonly claims?: string | undefined;
  /** The `client-request-id` to send. */
  readonly correlationId: string;
  /** Fires when the token manager is closed. Individual callers' signals do not reach here. */
  readonly signal: AbortSignal;
  /** The `context` of the `acquireToken` call that started this acquisition. */
  readonly context?: C | undefined;
}

/** A token as a source acquired it, before caching. */
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
 * @example
 * ```ts
 * const source: CredentialSource = async ({ scopes, correlationId }) => {
 *   const { token, expiresInSeconds } = await myIssuer.issue(scopes, correlationId);
 *   return { accessToken: token, tokenType: "Bearer", expiresOn: new Date(Date.now() + expiresInSeconds * 1000) };
 * };
 * ```
 */
export type CredentialSource<C = undefined> =
  | ((request: SourceRequest<C>) => Promise<AcquiredToken>)
  | { acquire(request: SourceRequest<C>): Promise<AcquiredToken> };
