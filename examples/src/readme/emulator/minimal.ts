// packages/emulator/README.md, "Minimal example". Plain JavaScript for Node 20 (labelled js).

// #region readme-emulator-minimal
import { startEmulator } from "@certbound/emulator";
import { createCertificateAuthority } from "@certbound/core/credential-kit";

const emu = await startEmulator();
try {
  // An app registration with a (self-signed or any) certificate, like in Entra.
  const app = createCertificateAuthority().issue({ commonName: "my-app" });
  emu.registerConfidentialClient({ clientId: "my-app", certificatePem: app.certificatePem });

  // POST {emu.mtlsAuthorityHost}/{emu.tenantId}/oauth2/v2.0/token over mutual TLS with app's
  // certificate, trusting emu.caCertificatePem, with
  //   client_id=my-app&grant_type=client_credentials&scope=<emu.resourceUrl>/.default&token_type=mtls_pop
  // then call emu.resourceUrl with the token and the same certificate.
} finally {
  await emu.close();
}
// #endregion readme-emulator-minimal
