import type { ClientTlsIdentity } from "./transport";

/**
 * The token type of an mTLS Proof-of-Possession token (RFC 8705), as Entra ID returns it.
 *
 * @public
 * @example
 * ```ts
 * if (result.tokenType !== MTLS_POP_TOKEN_TYPE) throw new Error("expected an mTLS PoP token");
 * ```
 */
export const MTLS_POP_TOKEN_TYPE = "mtls_pop" as const;

/**
 * `"mtls_pop"` for a certificate-bound token, `"Bearer"` otherwise.
 *
 * @public
 */
export type TokenType = typeof MTLS_POP_TOKEN_TYPE | "Bearer";

/**
 * The certificate a PoP token is bound to, with its private key. Pass it as the client TLS identity
 * of every call that uses the token: it *is* a {@link ClientTlsIdentity}.
 * @public
 */
export interface BindingCertificate extends ClientTlsIdentity {
  /** End of the certificate's validity. */
  readonly notAfter: Date;
}

/**
 * Where a token came from.
 *
 * @public
 */
export type TokenSource = "identity_provider" | "cache";

/**
 * How a result was obtained.
 *
 * @public
 */
export interface TokenMetadata {
  readonly tokenSource: TokenSource;
  /** The `client-request-id` of the network request, or of this call for a cache hit. */
  readonly correlationId: string;
  /** The token endpoint that issued the token, when known. */
  readonly tokenEndpoint?: string | undefined;
  /** Time spent in this call, in milliseconds. */
  readonly durationMs: number;
}

/**
 * What every `acquireToken*` call returns.
 *
 * @public
 * @example
 * ```ts
 * const result = await app.acquireTokenForClient({ scopes: ["https://vault.azure.net/.default"], mtlsProofOfPossession: true });
 * console.log(result.tokenType, result.expiresOn, result.bindingCertificate?.x5tS256, result.metadata.tokenSource);
 * ```
 */
export interface TokenResult {
  readonly accessToken: string;
  readonly tokenType: TokenType;
  readonly expiresOn: Date;
  /** When a proactive refresh is due, if the server said (`refresh_in`) or a source rule applies. */
  readonly refreshOn?: Date | undefined;
  readonly scopes: readonly string[];
  readonly tenantId?: string | undefined;
  /** Present for PoP tokens: call the resource over mutual TLS with exactly this certificate. */
  readonly bindingCertificate?: BindingCertificate | undefined;
  readonly metadata: TokenMetadata;
}
