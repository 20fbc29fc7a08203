// MSAL.NET parity of the token endpoint as the confidential client sees it (issue 13 items 4, 6, 7).
import { type HttpRequest, ServiceError } from "@certbound/core";
import { createCertificateAuthority } from "@certbound/core/credential-kit";
import { createTestClock } from "@certbound/testing";
import { describe, expect, it } from "vitest";
import { createConfidentialClient } from "../src/index";

const AUTHORITY = "https://login.microsoftonline.com/8d6c2f5e-0000-4000-8000-00000000c0de";
const SCOPE = "https://vault.azure.net/.default";
const ca = createCertificateAuthority({ commonName: "parity test CA" });
const cert = ca.issue({ commonName: "parity-app" });

function client(answer: (n: number, request: HttpRequest) => unknown) {
  const requests: HttpRequest[] = [];
  const clock = createTestClock({ now: Date.now() });
  const app = createConfidentialClient({
    clientId: "app-id-1",
    authority: AUTHORITY,
    certificate: { certificatePem: cert.certificatePem, privateKey: cert.privateKey },
    transport: {
      async send(request) {
        requests.push(request);
        return {
          status: 200,
          headers: { "content-type": "application/json" },
          body: JSON.stringify(answer(requests.length, request)),
        };
      },
    },
    clock,
    env: {},
  });
  return { app, requests, clock };
}

const pop = { scopes: [SCOPE], mtlsProofOfPossession: true };

describe("token endpoint parity with MSAL.NET", () => {
  // Follows MSAL.NET tests/Microsoft.Identity.Test.Unit/CoreTests/OAuth2Tests/ClaimsTest.cs
  // AcquireTokenForClient_BypassesCacheForAccessTokens_IfClaimsUsed_Async and
  // src/client/Microsoft.Identity.Client/Internal/Requests/ClientCredentialRequest.cs (claims skip the
  // cache lookup; the new token is cached like any other).
  it("a token obtained with claims replaces the cached one for later plain calls", async () => {
    const { app, requests } = client((n) => ({
      access_token: `token-${n}`,
      token_type: "mtls_pop",
      expires_in: 3600,
    }));
    expect((await app.acquireTokenForClient(pop)).accessToken).toBe("token-1");
    const claims = '{"access_token":{"nbf":{"essential":true,"value":"1701000000"}}}';
    const challenged = await app.acquireTokenForClient({ ...pop, claims });
    expect(challenged.accessToken).toBe("token-2");
    expect(String(requests[1]?.body)).toContain("claims=");
    const plain = await app.acquireTokenForClient(pop);
    expect(plain.accessToken).toBe("token-2");
    expect(plain.metadata.tokenSource).toBe("cache");
    expect(requests).toHaveLength(2);
  });

  // Follows MSAL.NET src/client/Microsoft.Identity.Client/OAuth2/OAuth2Client.cs (a 200 carrying
  // `error` is thrown as MsalServiceException with that error code) and
  // tests/Microsoft.Identity.Test.Unit/RequestsTests/DeviceCodeRequestTests.cs DeviceCodeExceptionsOn200OKAsync.
  it("a 200 whose JSON carries error fails with that error code and caches nothing", async () => {
    const { app, requests } = client((n) =>
      n === 1
        ? {
            error: "invalid_client",
            error_description: "AADSTS700027: Client assertion contains an invalid signature.",
          }
        : { access_token: "good", token_type: "mtls_pop", expires_in: 3600 },
    );
    const error = await app.acquireTokenForClient(pop).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ code: "service_error", errorCode: "invalid_client", status: 200 });
    expect((await app.acquireTokenForClient(pop)).accessToken).toBe("good");
    expect(requests).toHaveLength(2);
  });

  // Follows MSAL.NET src/client/Microsoft.Identity.Client/OAuth2/MsalTokenResponse.cs (ExpiresIn is a
  // duration in seconds; only managed identity's expires_on may be an absolute time).
  it("a large expires_in is a long lifetime, not an absolute epoch", async () => {
    const { app, clock } = client(() => ({
      access_token: "t",
      token_type: "mtls_pop",
      expires_in: 1_000_000_000,
    }));
    const result = await app.acquireTokenForClient(pop);
    expect(result.expiresOn.getTime()).toBe(clock.now() + 1_000_000_000_000);
  });
});
