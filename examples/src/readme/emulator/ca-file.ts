// packages/emulator/README.md, "Use it with msal-node / @azure/identity": the trust file.
import type { Emulator } from "@certbound/emulator";

declare const emu: Emulator;

// #region readme-emulator-ca-file
import { writeFileSync } from "node:fs";

writeFileSync("emulator-ca.pem", emu.caCertificatePem + emu.serviceFabricCertificatePem);
// NODE_EXTRA_CA_CERTS=emulator-ca.pem node app.js
// #endregion readme-emulator-ca-file
