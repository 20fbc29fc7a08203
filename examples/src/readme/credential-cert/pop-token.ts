// packages/credential-cert/README.md, "Example: a PoP token, then a call to the resource". Plain
// JavaScript for Node 20 (the README labels it js).

// #region readme-cert-pop-token
import { readFileSync } from "node:fs";
import { createConfidentialClient } from "@certbound/credential-cert";
import { createUndiciTransport } from "@certbound/http-undici";

const transport = createUndiciTransport();
const app = createConfidentialClient({
  clientId: "11111111-2222-3333-4444-555555555555",
  authority: "https://login.microsoftonline.com/contoso.onmicrosoft.com",
  certificate: { pfx: readFileSync("app.pfx"), passphrase: process.env.PFX_PASSPHRASE },
  transport,
});
const result = await app.acquireTokenForClient({ scopes: ["https://vault.azure.net/.default"], mtlsProofOfPossession: true });
const response = await transport.send({ method: "GET", url: "https://myvault.vault.azure.net/secrets/s1?api-version=7.4",
  headers: { authorization: `Bearer ${result.accessToken}` }, clientIdentity: result.bindingCertificate });
console.log(response.status, response.body);
// #endregion readme-cert-pop-token
