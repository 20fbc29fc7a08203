// packages/http-axios/README.md, "Use it". Plain JavaScript for Node 20 (labelled js).

// #region readme-axios-use-it
import { createManagedIdentityClient } from "@certbound/credential-msi";
import { createAxiosTransport } from "@certbound/http-axios";

const transport = createAxiosTransport();
const msi = createManagedIdentityClient({ transport });

const token = await msi.acquireToken({ resource: "https://vault.azure.net", mtlsProofOfPossession: true });

// Call the resource over mutual TLS with the certificate the token is bound to.
const response = await transport.send({
  method: "GET",
  url: "https://myvault.vault.azure.net/secrets/app?api-version=7.5",
  headers: { authorization: `Bearer ${token.accessToken}` },
  clientIdentity: token.bindingCertificate,
});
console.log(response.status, response.body);

await transport.close();
// #endregion readme-axios-use-it
