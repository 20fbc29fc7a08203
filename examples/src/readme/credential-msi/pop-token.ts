// packages/credential-msi/README.md, "PoP in 15 lines". Plain JavaScript for Node 20 (labelled js).

// #region readme-msi-pop-token
import { createManagedIdentityClient } from "@certbound/credential-msi";
import { createUndiciTransport } from "@certbound/http-undici";

const transport = createUndiciTransport();
const msi = createManagedIdentityClient({ transport }); // system-assigned; or { transport, clientId }

const result = await msi.acquireToken({ resource: "https://vault.azure.net", mtlsProofOfPossession: true });

// Call the resource over mutual TLS with the certificate the token is bound to.
const response = await transport.send({
  method: "GET",
  url: "https://myvault.vault.azure.net/secrets/app?api-version=7.5",
  headers: { authorization: `Bearer ${result.accessToken}` },
  clientIdentity: result.bindingCertificate,
});
console.log(response.status, result.tokenType, result.metadata.tokenSource); // 200 "mtls_pop" "identity_provider"
// #endregion readme-msi-pop-token
