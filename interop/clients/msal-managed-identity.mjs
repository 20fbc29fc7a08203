// @azure/msal-node ManagedIdentityApplication. It detects its source from the environment the
// test sets (ManagedIdentitySources/*.ts: IDENTITY_ENDPOINT + IDENTITY_HEADER [+ IDENTITY_SERVER_THUMBPRINT],
// MSI_ENDPOINT [+ MSI_SECRET], IDENTITY_ENDPOINT + IMDS_ENDPOINT, else IMDS at
// AZURE_POD_IDENTITY_AUTHORITY_HOST). One application per case.
import { ManagedIdentityApplication } from "@azure/msal-node";
import { attempt, input, run } from "./child.mjs";

run(async () => {
  const { cases } = input();
  const results = [];
  for (const { label, identity, resource } of cases) {
    results.push(
      await attempt(label, async () => {
        const app = new ManagedIdentityApplication(identity ? { managedIdentityIdParams: identity } : {});
        const source = app.getManagedIdentitySource();
        const r = await app.acquireToken({ resource });
        return { source, accessToken: r.accessToken, tokenType: r.tokenType };
      }),
    );
  }
  return results;
});
