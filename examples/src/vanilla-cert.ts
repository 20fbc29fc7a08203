// The seed's confidential-client flow: an app registered with a certificate gets an mTLS PoP token
// from the regional mTLS endpoint and calls the resource with the same certificate. The second
// acquisition is served from the cache.
// #region readme-cert-imports
import { ResourceCaller, type TokenResult } from "@certbound/core";
import { createConfidentialClient } from "@certbound/credential-cert";
import { createUndiciTransport } from "@certbound/http-undici";
// #endregion readme-cert-imports

/** Where the example sends its requests; against Entra ID only the first three are needed. */
export interface VanillaCertSettings {
  clientId: string;
  tenantId: string;
  certificatePem: string;
  privateKeyPem: string;
  scope: string;
  resourceUrl: string;
  /** Emulator or private cloud: the hosts and the CA that signs them. */
  authorityHost?: string;
  mtlsAuthorityHost?: string;
  ca?: string;
}

export async function runVanillaCert(settings: VanillaCertSettings): Promise<{
  first: TokenResult;
  second: TokenResult;
  resourceAnswer: string;
}> {
  const { clientId, tenantId, certificatePem, privateKeyPem, scope, resourceUrl } = settings;
  // #region readme-vanilla-cert
  const transport = createUndiciTransport({ ca: settings.ca });
  const app = createConfidentialClient({
    clientId,
    authority: `https://login.microsoftonline.com/${tenantId}`,
    certificate: { certificatePem, privateKeyPem },
    azureRegion: "westus3", // token from https://westus3.mtlsauth.microsoft.com
    transport,
    mtlsAuthorityHost: settings.mtlsAuthorityHost, // the emulator's; leave out in Azure
  });
  const caller = new ResourceCaller({ transport });
  try {
    const first = await app.acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: true });
    const second = await app.acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: true });
    // second.metadata.tokenSource === "cache"; both are bound to first.bindingCertificate

    const response = await caller.call(first, resourceUrl); // mutual TLS with the same certificate
    return { first, second, resourceAnswer: response.body };
  } finally {
    await caller.close();
    await app.close();
    await transport.close();
  }
  // #endregion readme-vanilla-cert
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { startEmulator } = await import("@certbound/emulator");
  const { createCertificateAuthority } = await import("@certbound/core/credential-kit");
  const emu = await startEmulator();
  const appCert = createCertificateAuthority({ commonName: "my app's CA" }).issue({ commonName: "my-app" });
  const clientId = "6b3c1f2e-4d5a-4e8f-9a0b-1c2d3e4f5a6b";
  emu.registerConfidentialClient({ clientId, certificatePem: appCert.certificatePem });
  try {
    const { first, second, resourceAnswer } = await runVanillaCert({
      clientId,
      tenantId: emu.tenantId,
      certificatePem: appCert.certificatePem,
      privateKeyPem: appCert.privateKeyPem,
      scope: `${emu.resourceUrl}/.default`,
      resourceUrl: `${emu.resourceUrl}/data`,
      mtlsAuthorityHost: emu.mtlsAuthorityHost,
      ca: emu.caCertificatePem,
    });
    console.log(first.tokenType, first.metadata.tokenSource, second.metadata.tokenSource, resourceAnswer);
  } finally {
    await emu.close();
  }
}
