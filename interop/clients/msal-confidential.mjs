// @azure/msal-node ConfidentialClientApplication with a certificate, pointed at local authorities:
// `authority` https://127.0.0.1:<port>/<tenant> with `knownAuthorities: ["127.0.0.1:<port>"]` (no
// instance discovery); it signs PS256 client assertions (`thumbprintSha256`) and trusts the
// emulator CA(s) through NODE_EXTRA_CA_CERTS. One application object per authority, several scopes
// in a row on each: msal-node signs one assertion per application object and reuses it.
import { createHash, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfidentialClientApplication } from "@azure/msal-node";
import { attempt, input, run } from "./child.mjs";

run(async () => {
  const { authorities, certificatePath, keyPath, scopes } = input();
  const certificate = new X509Certificate(readFileSync(certificatePath));
  const privateKey = readFileSync(keyPath, "utf8");
  const results = [];
  for (const { authority, clientId } of authorities) {
    const app = new ConfidentialClientApplication({
      auth: {
        clientId,
        authority,
        knownAuthorities: [new URL(authority).host],
        clientCertificate: {
          thumbprintSha256: createHash("sha256").update(certificate.raw).digest("hex"),
          privateKey,
        },
      },
    });
    for (const scope of scopes) {
      results.push(
        await attempt(`${authority} ${scope}`, async () => {
          const r = await app.acquireTokenByClientCredential({ scopes: [scope] });
          return {
            authority,
            scope,
            accessToken: r?.accessToken,
            tokenType: r?.tokenType,
            fromCache: r?.fromCache,
          };
        }),
      );
    }
  }
  return results;
});
