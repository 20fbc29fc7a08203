// The seed's VanillaMsiMtlsPop in TypeScript: a managed identity gets an mTLS PoP token through
// IMDS v2 and calls a resource over mutual TLS with the token's binding certificate.
// #region readme-msi-imports
import { type HttpResponse, MtlsPopTokenAcquirer, ResourceCaller, type TokenResult } from "@certbound/core";
import { createManagedIdentityClient } from "@certbound/credential-msi";
import { createUndiciTransport } from "@certbound/http-undici";
// #endregion readme-msi-imports

/**
 * Outside Azure (tests, the emulator): where IMDS is, where the mTLS token endpoint is (the
 * emulator's is not an Entra ID host, so the app names it) and which CA signs the local servers.
 */
export interface LocalSettings {
  imdsEndpoint?: string;
  mtlsAuthorityHost?: string;
  ca?: string;
}

/** The shortest path: one PoP token, one resource call. */
export async function msiQuickStart(
  resource: string,
  url: string,
  local: LocalSettings = {},
): Promise<{ result: TokenResult; response: HttpResponse }> {
  // #region readme-msi-quick
  const transport = createUndiciTransport({ ca: local.ca });
  const app = createManagedIdentityClient({
    transport,
    imdsEndpoint: local.imdsEndpoint,
    mtlsAuthorityHost: local.mtlsAuthorityHost,
  });

  const caller = new ResourceCaller({ transport });
  try {
    const result = await app.acquireToken({ resource, mtlsProofOfPossession: true });
    // result.tokenType === "mtls_pop"; result.bindingCertificate = IMDS-issued certificate + its key

    const response = await caller.call(result, url); // mutual TLS with result.bindingCertificate
    return { result, response };
  } finally {
    await caller.close(); // closes only a transport the caller created
    await app.close();
    await transport.close();
  }
  // #endregion readme-msi-quick
}

// #region readme-vanilla-msi

export class VanillaMsiMtlsPop {
  readonly #transport;
  readonly #app;
  readonly #acquirer;
  readonly #caller;

  /** `userAssignedClientId` picks a user-assigned identity; `ca` trusts a private CA (the emulator's). */
  constructor(options: LocalSettings & { userAssignedClientId?: string } = {}) {
    this.#transport = createUndiciTransport({ ca: options.ca });
    this.#app = createManagedIdentityClient({
      transport: this.#transport,
      clientId: options.userAssignedClientId,
      imdsEndpoint: options.imdsEndpoint,
      mtlsAuthorityHost: options.mtlsAuthorityHost,
    });
    this.#acquirer = new MtlsPopTokenAcquirer(this.#app); // checks type, certificate and cnf
    this.#caller = new ResourceCaller({ transport: this.#transport });
  }

  async getResourceData(scope: string, url: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    const result = await this.#acquirer.acquireToken(scope, options);
    const response = await this.#caller.call(result, url, options); // TLS with result.bindingCertificate
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    return response.body;
  }

  async close(): Promise<void> {
    await this.#app.close();
    await this.#transport.close();
  }
}
// #endregion readme-vanilla-msi

if (import.meta.url === `file://${process.argv[1]}`) {
  const { startEmulator } = await import("@certbound/emulator");
  const emu = await startEmulator();
  const vanilla = new VanillaMsiMtlsPop({ imdsEndpoint: emu.imdsEndpoint, ca: emu.caCertificatePem });
  try {
    console.log(await vanilla.getResourceData(`${emu.resourceUrl}/.default`, `${emu.resourceUrl}/data`));
  } finally {
    await vanilla.close();
    await emu.close();
  }
}
