// Two ways to plug your own code into certbound.
//
// 1. A credential of your own: any object with `getToken(scopes, options)`. It goes wherever the
//    shipped clients go (MtlsPopTokenAcquirer, ResourceCaller, createTokenManager, adapters) with no
//    cast. Here it is a policy layer over another credential: it hands out only the scopes the app
//    was granted and counts what it served.
// 2. A token fetcher of your own, plugged into core: caching, single-flight, expiry buffer and
//    background refresh come for free. Here the "issuer" is a local function; in real life it could
//    be a workload-identity exchange, a secrets broker, or a test double.
import {
  CertboundError,
  type Credential,
  type HttpResponse,
  MtlsPopTokenAcquirer,
  ResourceCaller,
  type TokenResult,
} from "@certbound/core";
import { type AcquiredToken, createTokenManager, type FetchRequest } from "@certbound/core/credential-kit";
import { createConfidentialClient } from "@certbound/credential-cert";
import { createUndiciTransport } from "@certbound/http-undici";

// #region readme-custom-credential-object
/** A credential that serves only the scopes on its list, from any other credential. */
export function allowListCredential(inner: Credential, allowed: readonly string[]) {
  let served = 0;
  const credential: Credential = {
    async getToken(scopes, options) {
      const refused = scopes.find((scope) => !allowed.includes(scope));
      if (refused !== undefined) {
        throw new CertboundError("invalid_options", `The scope ${refused} is not on this app's list.`);
      }
      served++;
      return inner.getToken(scopes, options);
    },
  };
  return { credential, served: () => served };
}
// #endregion readme-custom-credential-object

/** Where the plugged-in example gets its tokens and calls: the emulator's hosts, or Entra's. */
export interface PluggedCredentialSettings {
  clientId: string;
  tenantId: string;
  certificatePem: string;
  privateKeyPem: string;
  /** The resource's scope, e.g. `https://vault.azure.net/.default`. */
  scope: string;
  resourceUrl: string;
  mtlsAuthorityHost?: string;
  ca?: string;
}

/**
 * The hand-written credential through everything downstream: the acquirer's PoP checklist, the
 * resource caller (which acquires the token itself) and a token manager of your own.
 */
export async function runPluggedCredential(settings: PluggedCredentialSettings): Promise<{
  checked: TokenResult;
  direct: HttpResponse;
  managed: HttpResponse;
  served: number;
}> {
  const { scope, resourceUrl } = settings;
  const transport = createUndiciTransport({ ca: settings.ca });
  const app = createConfidentialClient({
    clientId: settings.clientId,
    authority: `https://login.microsoftonline.com/${settings.tenantId}`,
    certificate: { certificatePem: settings.certificatePem, privateKeyPem: settings.privateKeyPem },
    mtlsAuthorityHost: settings.mtlsAuthorityHost,
    transport,
  });
  // #region readme-custom-credential-plugged
  const { credential, served } = allowListCredential(app, [scope]);
  const caller = new ResourceCaller({ transport });
  const manager = createTokenManager({ fetcher: credential });
  try {
    const checked = await new MtlsPopTokenAcquirer(credential).acquireToken(scope); // mtls_pop, cnf checked
    const direct = await caller.call(credential, resourceUrl, { scopes: [scope] }); // PoP by default
    const token = await manager.acquireToken({
      clientId: "allow-list",
      authority: "local",
      scopes: [scope],
      tokenType: "mtls_pop",
    });
    const managed = await caller.call(token, resourceUrl);
    return { checked, direct, managed, served: served() };
  } finally {
    manager.close();
    await caller.close();
    await app.close();
    await transport.close();
  }
  // #endregion readme-custom-credential-plugged
}

/** Stands in for any token issuer: counts its calls so the example can show the cache working. */
export function createLocalIssuer() {
  let issued = 0;
  return {
    get issued() {
      return issued;
    },
    // #region readme-custom-credential-source
    fetcher: async ({ scopes, correlationId }: FetchRequest): Promise<AcquiredToken> => {
      issued++;
      const expiresInSeconds = 3600;
      return {
        accessToken: `local-token-${issued}-for-${scopes.join(",")}-${correlationId.slice(0, 8)}`,
        tokenType: "Bearer",
        expiresOn: new Date(Date.now() + expiresInSeconds * 1000),
      };
    },
    // #endregion readme-custom-credential-source
  };
}

/** Runs the example: 100 concurrent first calls make one issuer call; the next call is a cache hit. */
export async function runCustomCredentialExample(): Promise<{ results: TokenResult[]; issued: number }> {
  const issuer = createLocalIssuer();
  // #region readme-custom-credential
  const manager = createTokenManager({ fetcher: issuer.fetcher });
  const request = { clientId: "my-app", authority: "local-issuer", scopes: ["api://orders/.default"] };
  const first = await Promise.all(Array.from({ length: 100 }, () => manager.acquireToken(request)));
  const again = await manager.acquireToken(request); // metadata.tokenSource === "cache"
  // #endregion readme-custom-credential
  manager.close();
  return { results: [...first, again], issued: issuer.issued };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { results, issued } = await runCustomCredentialExample();
  console.log(
    `${results.length} acquisitions, ${issued} issuer call(s), last from ${results.at(-1)?.metadata.tokenSource}`,
  );
}
