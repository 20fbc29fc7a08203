import { CertboundError, invalidOptions } from "./errors";
import { tokenBindingThumbprint } from "./jwt";
import { MTLS_POP_TOKEN_TYPE, type TokenResult } from "./result";
import { assertKnownKeys } from "./unknown-keys";

/** A confidential client: `@certbound/credential-cert`'s `createConfidentialClient`. */
export interface ConfidentialClientLike {
  acquireTokenForClient(request: {
    scopes: readonly string[];
    mtlsProofOfPossession?: boolean;
    signal?: AbortSignal | undefined;
  }): Promise<TokenResult>;
}

/** A managed identity client: `@certbound/credential-msi`'s `createManagedIdentityClient`. */
export interface ManagedIdentityClientLike {
  acquireToken(request: {
    resource: string;
    mtlsProofOfPossession?: boolean;
    signal?: AbortSignal | undefined;
  }): Promise<TokenResult>;
}

/**
 * Acquires mTLS PoP tokens from either kind of application and checks the vanilla flow's
 * checklist on every result: the token type is `mtls_pop`, the binding certificate is present with
 * its private key, and (for a JWT) `cnf.x5t#S256` equals the binding certificate's thumbprint.
 * A failed check is a `pop_validation_failed` error, never a silent Bearer fallback.
 *
 * @example
 * ```ts
 * const acquirer = new MtlsPopTokenAcquirer(createManagedIdentityClient({ transport }));
 * const result = await acquirer.acquireToken("https://graph.microsoft.com/.default", { signal });
 * ```
 */
export class MtlsPopTokenAcquirer {
  readonly #app: ConfidentialClientLike | ManagedIdentityClientLike;

  constructor(app: ConfidentialClientLike | ManagedIdentityClientLike) {
    if (!app || (!("acquireTokenForClient" in app) && !("acquireToken" in app))) {
      throw invalidOptions(
        "@certbound/core",
        "MtlsPopTokenAcquirer wraps a confidential client (acquireTokenForClient) or a managed identity client (acquireToken).",
      );
    }
    this.#app = app;
  }

  async acquireToken(
    scopeOrScopes: string | readonly string[],
    options: { signal?: AbortSignal } = {},
  ): Promise<TokenResult> {
    assertKnownKeys("@certbound/core", options, ["signal"], "MtlsPopTokenAcquirer.acquireToken options");
    const scopes = typeof scopeOrScopes === "string" ? [scopeOrScopes] : scopeOrScopes;
    let result: TokenResult;
    if ("acquireTokenForClient" in this.#app) {
      result = await this.#app.acquireTokenForClient({
        scopes,
        mtlsProofOfPossession: true,
        signal: options.signal,
      });
    } else {
      if (scopes.length !== 1) {
        throw invalidOptions(
          "@certbound/core",
          "A managed identity takes exactly one resource (scope) per request.",
        );
      }
      result = await this.#app.acquireToken({
        resource: scopes[0] as string,
        mtlsProofOfPossession: true,
        signal: options.signal,
      });
    }
    verifyMtlsPopResult(result);
    return result;
  }
}

/**
 * Checks the vanilla flow's checklist on a result; throws `pop_validation_failed` naming the
 * failed item. Returns the result for chaining.
 *
 * @example
 * ```ts
 * const checked = verifyMtlsPopResult(await app.acquireTokenForClient({ scopes, mtlsProofOfPossession: true }));
 * ```
 */
export function verifyMtlsPopResult(result: TokenResult): TokenResult {
  if (result.tokenType !== MTLS_POP_TOKEN_TYPE) {
    throw new CertboundError(
      "pop_validation_failed",
      `Expected an ${MTLS_POP_TOKEN_TYPE} token but got ${String(result.tokenType)}. Request it with mtlsProofOfPossession: true.`,
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
