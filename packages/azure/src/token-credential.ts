import type { AccessToken, GetTokenOptions as AzureGetTokenOptions, TokenCredential } from "@azure/core-auth";
import {
  CertboundError,
  type Credential,
  isCredential,
  MTLS_POP_TOKEN_TYPE,
  type TokenResult,
  verifyMtlsPopResult,
} from "@certbound/core";
import { invalidOptions, LruMap } from "@certbound/core/credential-kit";
import { toAbortSignal } from "./abort-signal";
import { PACKAGE } from "./package-name";

/**
 * Options of {@link createCertboundTokenCredential} (and of `certboundClientOptions`).
 *
 * @public
 * @example
 * ```ts
 * const options: CertboundTokenCredentialOptions = { credential: app, tenantId: "contoso.onmicrosoft.com" };
 * ```
 */
export interface CertboundTokenCredentialOptions {
  /**
   * The certbound credential that gets the tokens: `createConfidentialClient(...)`,
   * `createManagedIdentityClient(...)`, or any object implementing core's `Credential`.
   */
  readonly credential: Credential;
  /**
   * Ask for mTLS PoP tokens bound to a certificate (the reason to use this package). `false` asks
   * for Bearer tokens, sent without a client certificate. Never downgraded: a credential that
   * answers a PoP request with a Bearer token fails the call.
   * @default true
   */
  readonly mtlsProofOfPossession?: boolean | undefined;
  /**
   * The tenant the credential gets tokens from. Set it for a credential that is bound to one tenant
   * (a confidential client's tenanted authority): a client that asks for a token from another
   * tenant (Key Vault names its tenant in its challenge) is refused before any token is requested,
   * instead of receiving a token the resource will reject. Unset, a requested tenant is compared
   * with the token's `tenantId` when the credential reports one.
   */
  readonly tenantId?: string | undefined;
}

/**
 * An Azure SDK `TokenCredential` backed by a certbound credential. It remembers the result behind
 * each token it hands out, so `createBindingCertificatePolicy` can present the certificate that
 * exactly that token is bound to.
 *
 * @public
 * @example
 * ```ts
 * const credential: CertboundTokenCredential = createCertboundTokenCredential({ credential: app });
 * const client = new SecretClient(vaultUrl, credential, { additionalPolicies: [{ policy: createBindingCertificatePolicy({ credential }), position: "perRetry" }] });
 * ```
 */
export interface CertboundTokenCredential extends TokenCredential {
  /** Gets a token from the certbound credential; never resolves `null` (a failure throws a `CertboundError`). */
  getToken(scopes: string | string[], options?: AzureGetTokenOptions): Promise<AccessToken>;
  /** Whether `getToken` asks for mTLS PoP tokens. */
  readonly mtlsProofOfPossession: boolean;
  /** The result this credential returned for `accessToken`, while it remembers it; `undefined` for any other token. */
  tokenResultFor(accessToken: string): TokenResult | undefined;
}

// Tokens remembered for the policy: a client holds one token per scope and tenant at a time, and a
// token that has rotated out only needs to be found for requests already in flight.
const REMEMBERED_TOKENS = 64;

/**
 * Wraps a certbound credential as an Azure SDK `TokenCredential`. `getToken` honours what the SDK
 * passes: `scopes` (a string or an array), `claims` (a CAE or claims challenge: the credential skips
 * its cache), `tenantId` (see {@link CertboundTokenCredentialOptions.tenantId}) and `abortSignal`.
 * `enableCae` is accepted (certbound sends the claims the resource asks for either way).
 * Signed-HTTP-request PoP (`proofOfPossessionOptions`) is another protocol and is refused.
 *
 * The token goes in `Authorization: Bearer <token>` as the SDK writes it; a PoP token also needs
 * its certificate on the TLS connection: add `createBindingCertificatePolicy`, or use
 * `certboundClientOptions`, which returns both.
 *
 * @public
 * @example
 * ```ts
 * const credential = createCertboundTokenCredential({ credential: createManagedIdentityClient() });
 * const token = await credential.getToken("https://vault.azure.net/.default");
 * ```
 */
export function createCertboundTokenCredential(
  options: CertboundTokenCredentialOptions,
): CertboundTokenCredential {
  if (typeof options !== "object" || options === null || !isCredential(options.credential)) {
    throw invalidOptions(
      PACKAGE,
      "`credential` must be a certbound credential (an object with getToken(scopes, options)), e.g. createConfidentialClient(...) or createManagedIdentityClient(...).",
    );
  }
  const pop = options.mtlsProofOfPossession ?? true;
  if (typeof pop !== "boolean") throw invalidOptions(PACKAGE, "`mtlsProofOfPossession` must be a boolean.");
  const ownTenant = options.tenantId;
  if (ownTenant !== undefined && (typeof ownTenant !== "string" || ownTenant.trim() === "")) {
    throw invalidOptions(PACKAGE, "`tenantId` must be a non-empty tenant id or domain.");
  }
  const inner = options.credential;
  const results = new LruMap<string, TokenResult>(REMEMBERED_TOKENS);

  return {
    mtlsProofOfPossession: pop,
    tokenResultFor: (accessToken) => results.get(accessToken),
    async getToken(scopes: string | string[], sdkOptions?: AzureGetTokenOptions): Promise<AccessToken> {
      const list = typeof scopes === "string" ? [scopes] : Array.isArray(scopes) ? [...scopes] : [];
      if (list.length === 0 || list.some((s) => typeof s !== "string" || s.trim() === "")) {
        throw invalidOptions(PACKAGE, "getToken needs at least one non-empty scope.");
      }
      if (sdkOptions?.proofOfPossessionOptions !== undefined) {
        throw invalidOptions(
          PACKAGE,
          "The client asked for a signed-HTTP-request PoP token (proofOfPossessionOptions); certbound gets mTLS PoP tokens (RFC 8705). Use this credential with clients that send Bearer-scheme tokens.",
        );
      }
      const requestedTenant = sdkOptions?.tenantId;
      if (requestedTenant && ownTenant && !sameTenant(requestedTenant, ownTenant)) {
        throw wrongTenant(requestedTenant, ownTenant);
      }
      const bridged = toAbortSignal(sdkOptions?.abortSignal);
      let result: TokenResult;
      try {
        result = await inner.getToken(list, {
          mtlsProofOfPossession: pop,
          claims: sdkOptions?.claims || undefined,
          signal: bridged.signal,
        });
      } finally {
        bridged.release();
      }
      if (typeof result?.accessToken !== "string" || result.accessToken === "") {
        throw new CertboundError(
          "invalid_token_response",
          `${PACKAGE}: the credential answered without an access token. Check that it implements getToken of @certbound/core's Credential.`,
        );
      }
      if (pop) {
        verifyMtlsPopResult(result);
      } else if (result.tokenType === MTLS_POP_TOKEN_TYPE) {
        throw new CertboundError(
          "token_type_mismatch",
          `${PACKAGE}: asked for a Bearer token (mtlsProofOfPossession: false) and the credential returned an mTLS PoP token.`,
        );
      }
      if (requestedTenant && !ownTenant && result.tenantId && !sameTenant(requestedTenant, result.tenantId)) {
        throw wrongTenant(requestedTenant, result.tenantId);
      }
      results.set(result.accessToken, result);
      return {
        token: result.accessToken,
        expiresOnTimestamp: result.expiresOn.getTime(),
        ...(result.refreshOn ? { refreshAfterTimestamp: result.refreshOn.getTime() } : {}),
        // The SDK's "pop" is signed-HTTP-request PoP; an mTLS PoP token travels as Bearer.
        tokenType: "Bearer",
      };
    },
  };
}

function sameTenant(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

// A certbound credential is bound to its tenant: handing the client a token from that tenant when
// the resource names another only turns into a 401 later, with no hint why.
function wrongTenant(requested: string, own: string): CertboundError {
  return invalidOptions(
    PACKAGE,
    `the client asked for a token from tenant "${safe(requested)}" (the resource's challenge names it), and the credential gets tokens from tenant "${safe(own)}". Create the certbound credential for tenant "${safe(requested)}" (its authority), or call a resource of tenant "${safe(own)}".`,
  );
}

// Tenant ids come from a server's challenge: keep them printable and short in messages.
function safe(value: string): string {
  return value.replace(/[^\w.-]/g, "?").slice(0, 100);
}
