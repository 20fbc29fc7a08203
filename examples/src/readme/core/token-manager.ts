// packages/core/README.md, "Your own token fetcher". The prelude stands for the app's own issuer.
import type { AcquiredToken } from "@certbound/core/credential-kit";

declare function myIssuer(
  scopes: readonly string[],
  options: { correlationId: string; signal?: AbortSignal | undefined },
): Promise<AcquiredToken>;

// #region readme-core-token-manager
import { createTokenManager } from "@certbound/core/credential-kit";

const manager = createTokenManager({ fetcher: async ({ scopes, correlationId, signal }) => myIssuer(scopes, { correlationId, signal }) });
const result = await manager.acquireToken({ clientId: "my-app", authority: "my-issuer", scopes: ["api://x/.default"] });
// #endregion readme-core-token-manager

console.log(result.tokenType);
