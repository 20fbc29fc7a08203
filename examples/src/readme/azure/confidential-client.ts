// packages/azure/README.md, "Any Azure SDK client": an app registration's certificate, a tenant
// pinned, and the two parts used separately. Plain JavaScript for Node 20 (labelled js).
import type { SecretClientOptions } from "@azure/keyvault-secrets";
import type { ConfidentialClient } from "@certbound/credential-cert";

declare const app: ConfidentialClient;
declare const vaultUrl: string;
declare const myOptions: SecretClientOptions;

// #region readme-azure-parts
import { SecretClient } from "@azure/keyvault-secrets";
import { createBindingCertificatePolicy, createCertboundTokenCredential } from "@certbound/azure";

// `tenantId`: a challenge naming another tenant is refused before any token is requested.
const credential = createCertboundTokenCredential({ credential: app, tenantId: "contoso.onmicrosoft.com" });
const policy = createBindingCertificatePolicy({ credential });

const client = new SecretClient(vaultUrl, credential, {
  ...myOptions,
  additionalPolicies: [...(myOptions.additionalPolicies ?? []), { policy, position: "perRetry" }],
});
// #endregion readme-azure-parts
console.log(client);
