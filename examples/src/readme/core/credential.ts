// packages/core/README.md, "One credential interface". Shown as TypeScript (the
// `Credential` annotation is the point); the prelude gives the names the block uses.
import type { createConfidentialClient } from "@certbound/credential-cert";

declare const app: ReturnType<typeof createConfidentialClient>;
declare const claims: string | undefined;
declare const correlationId: string | undefined;
declare const signal: AbortSignal;

// #region readme-core-credential
import type { Credential } from "@certbound/core";

const result = await app.getToken(["https://vault.azure.net/.default"], {
  mtlsProofOfPossession: true, // PoP (bound to a certificate) instead of Bearer; default false
  claims, // a resource's claims challenge (JSON): skips the cache read
  forceRefresh: false, // skip the cache
  correlationId, // the client-request-id to send
  signal, // ends this caller's wait
});

// A credential of your own is a plain object with that method, e.g. a policy layer over another one:
const onlyVault: Credential = {
  getToken(scopes, options) {
    if (scopes.some((s) => s !== "https://vault.azure.net/.default")) throw new Error("not on the list");
    return app.getToken(scopes, options);
  },
};
// #endregion readme-core-credential
console.log(result, onlyVault);
