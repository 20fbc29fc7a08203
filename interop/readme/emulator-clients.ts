// packages/emulator/README.md, "Use it with msal-node / @azure/identity": the confidential client's
// settings. It lives here, not in examples/src/readme/, because interop/ is where those two clients
// are installed, so root tsconfig.json checks the block against their real types.
import type { Emulator } from "@certbound/emulator";

declare const emu: Emulator;
declare const thumbprintSha256: string;
declare const privateKey: string;
declare const certificatePath: string;

// #region readme-emulator-azure-clients
import { ConfidentialClientApplication } from "@azure/msal-node";
import { ClientCertificateCredential } from "@azure/identity";

// @azure/msal-node
new ConfidentialClientApplication({
  auth: {
    clientId: "my-app",
    authority: `${emu.authorityHost}/${emu.tenantId}`,          // https://127.0.0.1:<port>/<tenant>
    knownAuthorities: [new URL(emu.authorityHost).host],        // "127.0.0.1:<port>": no instance discovery
    clientCertificate: { thumbprintSha256, privateKey },        // of the registered certificate
  },
});
// @azure/identity
new ClientCertificateCredential(emu.tenantId, "my-app", { certificatePath }, {
  authorityHost: emu.authorityHost,
  disableInstanceDiscovery: true,                              // passes the host as a known authority
});
// #endregion readme-emulator-azure-clients
