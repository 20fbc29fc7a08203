import type { HttpRequest, HttpResponse } from "@certbound/core";
import { createCertificateAuthority } from "@certbound/testing";
import { fakeTransport, json, pathOf } from "./fake-transport";
import { testKeyPair } from "./keys";

export const TENANT = "11111111-2222-3333-4444-555555555555";
export const CLIENT = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
export const IMDS = "http://169.254.169.254";
export const MTLS = "https://westus3.mtlsauth.microsoft.com";

/**
 * An in-memory IMDS v2 + mTLS token endpoint for unit tests: certifies the shared test key, and
 * lets a test override any answer by path. The end-to-end tests use the real emulator instead.
 */
export function fakeImds(
  override: (request: HttpRequest, path: string) => HttpResponse | Error | undefined = () => undefined,
  options: {
    /** Validity of issued certificates, from `now()`. @default 7 days */
    certificateLifetimeMs?: number;
    /** `expires_in` of mTLS tokens. @default 3600 */
    expiresIn?: number;
    /** The time certificates are dated from (a test clock's). @default Date.now */
    now?: () => number;
  } = {},
) {
  const now = options.now ?? Date.now;
  const ca = createCertificateAuthority();
  let issued = 0;
  const transport = fakeTransport((request) => {
    const path = pathOf(request);
    const answer = override(request, path);
    if (answer instanceof Error) throw answer;
    if (answer) return answer;
    if (path === "/metadata/identity/getplatformmetadata") {
      return json(
        200,
        { clientId: CLIENT, tenantId: TENANT, cuId: { vmId: "vm-1" }, attestationEndpoint: "https://attest" },
        { server: "IMDS/150.870.65.1854" },
      );
    }
    if (path === "/metadata/identity/issuecredential") {
      issued++;
      const leaf = ca.issue({
        commonName: CLIENT,
        publicKey: testKeyPair().publicKey,
        notAfter: new Date(now() + (options.certificateLifetimeMs ?? 7 * 86400_000)),
      });
      return json(200, {
        client_id: CLIENT,
        tenant_id: TENANT,
        certificate: Buffer.from(leaf.certificate.raw).toString("base64"),
        identity_type: "SystemAssigned",
        mtls_authentication_endpoint: MTLS,
      });
    }
    if (path === `/${TENANT}/oauth2/v2.0/token`) {
      return json(200, {
        access_token: `pop-${request.clientIdentity?.x5tS256 ?? "none"}`,
        token_type: "mtls_pop",
        expires_in: options.expiresIn ?? 3600,
      });
    }
    if (path === "/metadata/identity/oauth2/token") {
      return json(200, { access_token: "bearer-imds", expires_in: "3600", token_type: "Bearer" });
    }
    return json(404, { error: "not_found" });
  });
  return {
    transport,
    get issued() {
      return issued;
    },
    count: (path: string) => transport.requests.filter((r) => pathOf(r) === path).length,
  };
}
