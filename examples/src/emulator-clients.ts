// The emulator README's client snippets: each flow (confidential client with mTLS PoP and Bearer,
// managed identity with mTLS PoP and Bearer, a resource call) against a local emulator, exactly as
// the README shows them. examples/test/emulator-clients.test.ts runs it.
import type { TokenResult } from "@certbound/core";
// #region readme-emulator-imports
import { ResourceCaller } from "@certbound/core";
import { createCertificateAuthority } from "@certbound/core/credential-kit";
import { createConfidentialClient } from "@certbound/credential-cert";
import { createManagedIdentityClient } from "@certbound/credential-msi";
import { startEmulator } from "@certbound/emulator";
import { createUndiciTransport } from "@certbound/http-undici";
// #endregion readme-emulator-imports

/** What each flow got, and where the emulator listened (for the test's checks). */
export interface EmulatorClientsRun {
  pop: TokenResult;
  bearer: TokenResult;
  miPop: TokenResult;
  miBearer: TokenResult;
  resourceStatus: number;
  resourceAnswer: { clientCertificateX5tS256?: string; tokenType?: string };
  hosts: { authorityHost: string; mtlsAuthorityHost: string; imdsEndpoint: string };
}

export async function runEmulatorClients(): Promise<EmulatorClientsRun> {
  // #region readme-emulator-start
  const emu = await startEmulator();
  // One transport for every flow, trusting the emulator's CA (it signs all its HTTPS servers).
  const transport = createUndiciTransport({ ca: emu.caCertificatePem });
  const scope = `${emu.resourceUrl}/.default`;
  // #endregion readme-emulator-start
  try {
    // #region readme-emulator-confidential-client
    // An app registration: any certificate (RSA, for Bearer's signed assertion), registered like in Entra.
    const appCert = createCertificateAuthority({ commonName: "my CA" }).issue({
      commonName: "my-app",
      keyType: "rsa",
    });
    emu.registerConfidentialClient({ clientId: "my-app", certificatePem: appCert.certificatePem });

    const app = createConfidentialClient({
      clientId: "my-app",
      authority: `https://login.microsoftonline.com/${emu.tenantId}`, // the emulated tenant
      certificate: { certificatePem: appCert.certificatePem, privateKeyPem: appCert.privateKeyPem },
      transport,
      mtlsAuthorityHost: emu.mtlsAuthorityHost, // mTLS PoP token requests go here
      authorityHost: emu.authorityHost, // Bearer token requests go here (left out: to Entra ID)
    });
    const pop = await app.acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: true });
    const bearer = await app.acquireTokenForClient({ scopes: [scope] });
    app.close();
    // #endregion readme-emulator-confidential-client

    // #region readme-emulator-managed-identity
    // IMDS v2 names the mTLS token host itself; only IMDS' address is needed.
    const msi = createManagedIdentityClient({
      transport,
      imdsEndpoint: emu.imdsEndpoint,
      mtlsAuthorityHost: emu.mtlsAuthorityHost, // PoP: IMDS here names the emulator's token host
    });
    const miPop = await msi.acquireToken({ resource: emu.resourceUrl, mtlsProofOfPossession: true });
    const miBearer = await msi.acquireToken({ resource: emu.resourceUrl });
    await msi.close();
    // #endregion readme-emulator-managed-identity

    // #region readme-emulator-resource
    const caller = new ResourceCaller({ transport });
    const response = await caller.call(pop, `${emu.resourceUrl}/data`); // mutual TLS with pop's certificate
    // 200: { tokenType: "mtls_pop", clientCertificateX5tS256: pop.bindingCertificate.x5tS256, ... }
    // #endregion readme-emulator-resource
    await caller.close();
    return {
      pop,
      bearer,
      miPop,
      miBearer,
      resourceStatus: response.status,
      resourceAnswer: JSON.parse(response.body),
      hosts: {
        authorityHost: emu.authorityHost,
        mtlsAuthorityHost: emu.mtlsAuthorityHost,
        imdsEndpoint: emu.imdsEndpoint,
      },
    };
  } finally {
    // #region readme-emulator-close
    await transport.close();
    await emu.close();
    // #endregion readme-emulator-close
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const run = await runEmulatorClients();
  for (const [flow, result] of Object.entries({
    "confidential client, PoP": run.pop,
    "confidential client, Bearer": run.bearer,
    "managed identity, PoP": run.miPop,
    "managed identity, Bearer": run.miBearer,
  })) {
    console.log(`${flow}: ${result.tokenType} from ${result.metadata.tokenEndpoint}`);
  }
  console.log(`resource: ${run.resourceStatus} ${JSON.stringify(run.resourceAnswer)}`);
}
