// packages/credential-msi/README.md, "PoP on real VMs": an attestation provider against the emulator.
import type { HttpTransport } from "@certbound/core";
import { createManagedIdentityClient } from "@certbound/credential-msi";
import type { Emulator } from "@certbound/emulator";

declare const transport: HttpTransport;
declare const emu: Emulator;

// #region readme-msi-attestation-provider
// Against `startEmulator({ requireAttestation: true })`: the emulator's attestation service signs
// a token for the key; on a VM, ask your attestation service instead.
const msi = createManagedIdentityClient({
  transport,
  imdsEndpoint: emu.imdsEndpoint,
  mtlsAuthorityHost: emu.mtlsAuthorityHost,
  ca: emu.caCertificatePem,
  attestationProvider: async ({ attestationEndpoint, keyPair, signal }) => {
    const publicKey = keyPair.publicKey.export({ type: "spki", format: "der" }).toString("base64");
    const response = await fetch(`${attestationEndpoint}/attest`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ publicKey }),
      signal: signal ?? null,
    });
    return ((await response.json()) as { token: string }).token;
  },
});
// #endregion readme-msi-attestation-provider

msi.close();
