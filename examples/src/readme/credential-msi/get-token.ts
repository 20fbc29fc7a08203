// packages/credential-msi/README.md, "One credential interface". Plain JavaScript for Node 20
// (labelled js); the prelude gives the names the block uses.
import type { createManagedIdentityClient } from "@certbound/credential-msi";

declare const msi: ReturnType<typeof createManagedIdentityClient>;

// #region readme-msi-get-token
import { MtlsPopTokenAcquirer } from "@certbound/core";

const pop = await msi.getToken(["https://vault.azure.net/.default"], { mtlsProofOfPossession: true });
const checked = await new MtlsPopTokenAcquirer(msi).acquireToken("https://vault.azure.net/.default");
// #endregion readme-msi-get-token
console.log(pop, checked);
