// @azure/identity ClientCertificateCredential against a local authority: `authorityHost` is the
// emulator's regular host and `disableInstanceDiscovery` makes it pass that host to msal-node as a
// known authority. Several scopes in a row on one credential (one reused assertion).
import { ClientCertificateCredential } from "@azure/identity";
import { attempt, input, run } from "./child.mjs";

run(async () => {
  const { tenantId, clientId, certificatePath, authorityHost, scopes } = input();
  const credential = new ClientCertificateCredential(
    tenantId,
    clientId,
    { certificatePath },
    { authorityHost, disableInstanceDiscovery: true },
  );
  const results = [];
  for (const scope of scopes) {
    results.push(
      await attempt(scope, async () => {
        const token = await credential.getToken(scope);
        return { scope, accessToken: token.token, tokenType: token.tokenType };
      }),
    );
  }
  return results;
});
