// packages/http-undici/README.md, "Use it".
// Plain JavaScript for Node 20 (labelled js); the prelude gives the app registration's settings.
declare const clientId: string;
declare const tenantId: string;
declare const certificatePem: string;
declare const privateKeyPem: string;
declare const scope: string;

// #region readme-undici-use-it
import { createConfidentialClient } from "@certbound/credential-cert";
import { createUndiciTransport } from "@certbound/http-undici";

const transport = createUndiciTransport();
const app = createConfidentialClient({
  clientId,
  authority: `https://login.microsoftonline.com/${tenantId}`,
  certificate: { certificatePem, privateKeyPem },
  transport,
});

const token = await app.acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: true });

// Call the resource over mutual TLS with the certificate the token is bound to.
const response = await transport.send({
  method: "GET",
  url: "https://api.contoso.example/items",
  headers: { authorization: `Bearer ${token.accessToken}` },
  clientIdentity: token.bindingCertificate,
});
console.log(response.status, response.body);

app.close();
await transport.close();
// #endregion readme-undici-use-it
