import { assertKnownKeys } from "../options/unknown-keys";
import { CertboundError, invalidOptions } from "../protocol/errors";
import { tokenBindingThumbprint } from "../protocol/jwt";
import { type Credential, type GetTokenOptions, isCredential } from "../seams/credential";
import { MTLS_POP_TOKEN_TYPE, type TokenResult } from "../seams/result";

/**
 * Options of {@link MtlsPopTokenAcquirer.acquireToken}: those of {@link Credential.getToken} but
 * `mtlsProofOfPossession`, which is always on.
 *
 * @public
 * @example
 * ```ts
 * const options: MtlsPopAcquireOptions = { claims: challengeClaims, signal };
 * const result = await acquirer.acquireToken("https://vault.azure.net/.default", options);
 * ```
 */
export type MtlsPopAcquireOptions = Omit<GetTokenOptions, "mtlsProofOfPossession">;

// Every key of MtlsPopAcquireOptions (`satisfies`: none missing, none extra).
const ACQUIRE_KEYS = Object.keys({
  claims: true,
  forceRefresh: true,
  correlationId: true,
  signal: true,
} satisfies Record<keyof MtlsPopAcquireOptions, true>);

/**
 * Acquires mTLS PoP tokens from any {@link Credential} (a confidential client, a managed identity
 * client, or your own) and checks the vanilla flow's checklist on every result: the token type is
 * `mtls_pop`, the binding certificate is present with its private key, and (for a JWT)
 * `cnf.x5t#S256` equals the binding certificate's thumbprint. A failed check is a
 * `pop_validation_failed` error, never a silent Bearer fallback.
 *
 * @public
 * @example
 * ```ts
 * const acquirer = new MtlsPopTokenAcquirer(createManagedIdentityClient({ transport }));
 * const result = await acquirer.acquireToken("https://graph.microsoft.com/.default", { signal });
 * ```
 */
export class MtlsPopTokenAcquirer {
  readonly #credential: Credential;

  constructor(credential: Credential) {
    if (!isCredential(credential)) {
      throw invalidOptions(
        "@certbound/core",
        "MtlsPopTokenAcquirer wraps a credential: an object with `getToken(scopes, options)`, such as createConfidentialClient() or createManagedIdentityClient().",
      );
    }
    this.#credential = credential;
  }

  async acquireToken(
    scopeOrScopes: string | readonly string[],
    options: MtlsPopAcquireOptions = {},
  ): Promise<TokenResult> {
    assertKnownKeys("@certbound/core", options, ACQUIRE_KEYS, "MtlsPopTokenAcquirer.acquireToken options");
    const scopes = typeof scopeOrScopes === "string" ? [scopeOrScopes] : scopeOrScopes;
    const result = await this.#credential.getToken(scopes, {
      mtlsProofOfPossession: true,
      claims: options.claims,
      forceRefresh: options.forceRefresh,
      correlationId: options.correlationId,
      signal: options.signal,
    });
    verifyMtlsPopResult(result);
    return result;
  }
}

/**
 * Checks the vanilla flow's checklist on a result; throws `pop_validation_failed` naming the
 * failed item. Returns the result for chaining.
 *
 * @public
 * @example
 * ```ts
 * const checked = verifyMtlsPopResult(await app.acquireTokenForClient({ scopes, mtlsProofOfPossession: true }));
 * ```
 */
export function verifyMtlsPopResult(result: TokenResult): TokenResult {
  if (result?.tokenType !== MTLS_POP_TOKEN_TYPE) {
    throw new CertboundError(
      "pop_validation_failed",
      `Expected an ${MTLS_POP_TOKEN_TYPE} token but got ${String(result?.tokenType)}. Request it with mtlsProofOfPossession: true.`,
    );
  }
  const binding = result.bindingCertificate;
  if (binding?.privateKey?.type !== "private") {
    throw new CertboundError(
      "pop_validation_failed",
      "The mtls_pop token came without its binding certificate and private key, so no resource call can prove possession.",
    );
  }
  const cnf = tokenBindingThumbprint(result.accessToken);
  if (cnf !== undefined && cnf !== binding.x5tS256) {
    throw new CertboundError(
      "pop_validation_failed",
      `The token is bound to certificate ${cnf} (cnf.x5t#S256) but the binding certificate is ${binding.x5tS256}.`,
    );
  }
  return result;
}
