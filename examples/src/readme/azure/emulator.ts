// packages/azure/README.md, "Key Vault on a non-Azure host": the options SecretClient needs for a
// vault on another host (the emulator here). Plain JavaScript for Node 20 (labelled js).
import type { CertboundClientOptions } from "@certbound/azure";

declare const azure: CertboundClientOptions;
declare const vaultUrl: string;
declare const emulatorCaPem: string;

// #region readme-azure-emulator
import { SecretClient } from "@azure/keyvault-secrets";

const client = new SecretClient(vaultUrl, azure.credential, {
  ...azure,
  tlsOptions: { ca: emulatorCaPem }, // kept under the binding certificate
  disableChallengeResourceVerification: true, // the challenge names vault.azure.net
});
// #endregion readme-azure-emulator
console.log(client);
