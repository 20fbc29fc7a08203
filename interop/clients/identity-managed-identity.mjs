// @azure/identity ManagedIdentityCredential (msal-node underneath, its own HTTP pipeline as the
// network client). One credential per case; the options are { clientId | objectId | resourceId }.
import { ManagedIdentityCredential } from "@azure/identity";
import { attempt, input, run } from "./child.mjs";

run(async () => {
  const { cases } = input();
  const results = [];
  for (const { label, options, scope } of cases) {
    results.push(
      await attempt(label, async () => {
        const credential = new ManagedIdentityCredential({ ...options, retryOptions: { maxRetries: 1 } });
        const token = await credential.getToken(scope);
        return { accessToken: token.token, tokenType: token.tokenType };
      }),
    );
  }
  return results;
});
