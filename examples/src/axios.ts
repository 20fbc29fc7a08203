// The confidential-client PoP flow on axios: your own axios instance (interceptors, defaults),
// a certificate from a PFX file, and the resource call over the same per-certificate agent.
// Reading a PFX needs node-forge installed next to @certbound/credential-cert (npm install node-forge@1).
import { type HttpResponse, ResourceCaller, type TokenResult } from "@certbound/core";
import { createConfidentialClient } from "@certbound/credential-cert";
import { createAxiosTransport } from "@certbound/http-axios";
import axios from "axios";

export interface AxiosFlowSettings {
  clientId: string;
  tenantId: string;
  /** PKCS#12 bytes and their passphrase, as exported from a key vault or `openssl pkcs12 -export`. */
  pfx: Uint8Array;
  passphrase: string;
  scope: string;
  resourceUrl: string;
  /** Emulator or private cloud only. */
  mtlsAuthorityHost?: string;
  ca?: string;
}

export async function runAxiosFlow(
  settings: AxiosFlowSettings,
): Promise<{ result: TokenResult; response: HttpResponse }> {
  const { clientId, tenantId, pfx, passphrase, scope, resourceUrl } = settings;
  // #region readme-axios
  const transport = createAxiosTransport({
    axios: axios.create({ headers: { common: { "x-app": "orders-service" } } }),
    ca: settings.ca,
  });
  const app = createConfidentialClient({
    clientId,
    authority: `https://login.microsoftonline.com/${tenantId}`,
    certificate: { pfx, passphrase },
    transport,
    mtlsAuthorityHost: settings.mtlsAuthorityHost,
  });
  const result = await app.acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: true });
  const response = await new ResourceCaller({ transport }).call(result, resourceUrl);
  // #endregion readme-axios
  await app.close();
  await transport.close();
  return { result, response };
}
