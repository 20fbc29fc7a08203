// packages/core/README.md, "Call a resource with a PoP token". Shown as plain JavaScript for Node 20
// (the README labels it js: no types, no `await using`); the prelude gives the names the block uses.
import type { HttpTransport } from "@certbound/core";
import type { createConfidentialClient } from "@certbound/credential-cert";

declare const app: ReturnType<typeof createConfidentialClient>;
declare const transport: HttpTransport;
declare const signal: AbortSignal;

// #region readme-core-call-resource
import { MtlsPopTokenAcquirer, ResourceCaller } from "@certbound/core";

const acquirer = new MtlsPopTokenAcquirer(app); // any credential
const result = await acquirer.acquireToken("https://vault.azure.net/.default", { signal });

const caller = new ResourceCaller({ transport });
try {
  const url = "https://myvault.vault.azure.net/secrets/s1?api-version=7.5";
  const response = await caller.call(result, url); // with a result you acquired
  const again = await caller.call(app, url, { scopes: ["https://vault.azure.net/.default"] }); // or a credential
  console.log(response.status, again.status);
} finally {
  await caller.close(); // closes only a transport the caller created, not yours
}
// #endregion readme-core-call-resource
