// A credential source of your own, plugged into core: caching, single-flight, expiry buffer and
// background refresh come for free. Here the "issuer" is a local function; in real life it could
// be a workload-identity exchange, a secrets broker, or a test double.
import {
  type AcquiredToken,
  createTokenManager,
  type SourceRequest,
  type TokenResult,
} from "@certbound/core";

/** Stands in for any token issuer: counts its calls so the example can show the cache working. */
export function createLocalIssuer() {
  let issued = 0;
  return {
    get issued() {
      return issued;
    },
    // #region readme-custom-credential-source
    source: async ({ scopes, correlationId }: SourceRequest): Promise<AcquiredToken> => {
      issued++;
      const expiresInSeconds = 3600;
      return {
        accessToken: `local-token-${issued}-for-${scopes.join(",")}-${correlationId.slice(0, 8)}`,
        tokenType: "Bearer",
        expiresOn: new Date(Date.now() + expiresInSeconds * 1000),
      };
    },
    // #endregion readme-custom-credential-source
  };
}

/** Runs the example: 100 concurrent first calls make one issuer call; the next call is a cache hit. */
export async function runCustomCredentialExample(): Promise<{ results: TokenResult[]; issued: number }> {
  const issuer = createLocalIssuer();
  // #region readme-custom-credential
  const manager = createTokenManager({ source: issuer.source });
  const request = { clientId: "my-app", authority: "local-issuer", scopes: ["api://orders/.default"] };
  const first = await Promise.all(Array.from({ length: 100 }, () => manager.acquireToken(request)));
  const again = await manager.acquireToken(request); // metadata.tokenSource === "cache"
  // #endregion readme-custom-credential
  manager.close();
  return { results: [...first, again], issued: issuer.issued };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { results, issued } = await runCustomCredentialExample();
  console.log(
    `${results.length} acquisitions, ${issued} issuer call(s), last from ${results.at(-1)?.metadata.tokenSource}`,
  );
}
