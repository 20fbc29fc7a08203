// packages/credential-cert/README.md, "One credential interface". Plain JavaScript for Node 20
// (labelled js); the prelude gives the names the block uses.
import type { HttpTransport } from "@certbound/core";
import type { createConfidentialClient } from "@certbound/credential-cert";

declare const app: ReturnType<typeof createConfidentialClient>;
declare const transport: HttpTransport;

// #region readme-cert-get-token
import { ResourceCaller } from "@certbound/core";

const scope = "https://vault.azure.net/.default";
const result = await app.getToken([scope], { mtlsProofOfPossession: true });

// Or let the caller acquire it: PoP by default, one new token and one retry on a claims challenge.
const caller = new ResourceCaller({ transport });
try {
  const response = await caller.call(app, "https://myvault.vault.azure.net/secrets/s1?api-version=7.5", {
    scopes: [scope],
  });
  console.log(result.tokenType, response.status);
} finally {
  await caller.close();
}
// #endregion readme-cert-get-token
