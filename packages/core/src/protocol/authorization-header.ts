import type { TokenResult } from "../seams/result";
import { CertboundError } from "./errors";

/**
 * The scheme in front of the token. Entra's mTLS PoP tokens are still sent as `Bearer` to most
 * resources (the binding is proven by the TLS handshake); MSAL.NET's header helper writes `mtls_pop`.
 * @public
 */
export type AuthorizationScheme = "Bearer" | "mtls_pop";

/**
 * The `Authorization` header value for a token.
 *
 * @public
 * @example
 * ```ts
 * headers.authorization = createAuthorizationHeader(result); // "Bearer eyJ..."
 * ```
 */
export function createAuthorizationHeader(
  result: Pick<TokenResult, "accessToken">,
  scheme: AuthorizationScheme = "Bearer",
): string {
  if (scheme !== "Bearer" && scheme !== "mtls_pop") {
    throw new CertboundError(
      "invalid_options",
      `@certbound/core: unknown authorization scheme; use "Bearer" or "mtls_pop".`,
    );
  }
  return `${scheme} ${result.accessToken}`;
}
