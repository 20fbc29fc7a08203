// packages/credential-cert/README.md: a certificate given as a function, read again on every PoP call.
import type { HttpTransport } from "@certbound/core";

declare const transport: HttpTransport;

// #region readme-cert-rotating-certificate
import { readFileSync } from "node:fs";
import { createConfidentialClient } from "@certbound/credential-cert";

const app = createConfidentialClient({
  clientId: "11111111-2222-3333-4444-555555555555",
  authority: "https://login.microsoftonline.com/contoso.onmicrosoft.com",
  certificate: () => ({ certificatePem: readFileSync("cert.pem"), privateKeyPem: readFileSync("key.pem") }),
  transport,
});
// #endregion readme-cert-rotating-certificate

app.close();
