// packages/azure/README.md, the lines a user copies: SecretClient with mTLS PoP tokens from a
// managed identity. Plain JavaScript for Node 20 (labelled js).

// #region readme-azure-use-it
import { SecretClient } from "@azure/keyvault-secrets";
import { certboundClientOptions } from "@certbound/azure";
import { createManagedIdentityClient } from "@certbound/credential-msi";
import { createUndiciTransport } from "@certbound/http-undici";

const msi = createManagedIdentityClient({ transport: createUndiciTransport() });
const azure = certboundClientOptions({ credential: msi }); // mTLS PoP by default

const secrets = new SecretClient("https://myvault.vault.azure.net", azure.credential, { ...azure });
const secret = await secrets.getSecret("db-password");
console.log(secret.value);
// #endregion readme-azure-use-it
