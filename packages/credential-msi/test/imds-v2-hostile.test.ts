// IMDS v2 from the attacker's side (issue 12 items 11 and 12): whoever answers on the IMDS address
// tries to switch identities or to send the binding certificate and the token request elsewhere.
import { describe, expect, it } from "vitest";
import { checkMtlsAuthenticationEndpoint } from "../src/mtls-endpoint";
import { CLIENT, fakeImds, MTLS, TENANT } from "./helpers/fake-imds";
import { json, pathOf } from "./helpers/fake-transport";
import { testClient } from "./helpers/test-client";

const PLATFORM = "/metadata/identity/getplatformmetadata";
const ISSUE = "/metadata/identity/issuecredential";
const OTHER = "99999999-8888-7777-6666-555555555555";
const pop = { resource: "https://vault.azure.net", mtlsProofOfPossession: true } as const;

describe("issuecredential cannot switch identities", () => {
  // Each case lies once; the next, honest answer must still work: nothing was cached.
  const lies: Array<[string, string, (body: Record<string, unknown>) => Record<string, unknown>]> = [
    ["another client id than getplatformmetadata", ISSUE, (b) => ({ ...b, client_id: OTHER })],
    ["another tenant than getplatformmetadata", ISSUE, (b) => ({ ...b, tenant_id: OTHER })],
  ];
  for (const [name, path, lie] of lies) {
    it(`refuses an answer for ${name}, and caches nothing`, async () => {
      let lying = true;
      const imds = fakeImds();
      // The lie is applied, once, to the honest answer's JSON.
      const send = imds.transport.send.bind(imds.transport);
      imds.transport.send = async (request) => {
        const response = await send(request);
        if (!lying || pathOf(request) !== path) return response;
        lying = false;
        return json(response.status, lie(JSON.parse(response.body) as Record<string, unknown>));
      };
      const { msi } = testClient(imds.transport);
      const error = await msi.acquireToken(pop).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "managed_identity_request_failed" });
      expect((error as Error).message).toMatch(/answered for a different (client|tenant) id/);
      expect(
        imds.transport.requests.filter((r) => pathOf(r) === `/${TENANT}/oauth2/v2.0/token`),
      ).toHaveLength(0);
      const result = await msi.acquireToken(pop);
      expect(result.tokenType).toBe("mtls_pop");
      expect(result.metadata.tokenSource).toBe("identity_provider");
    });
  }

  it("refuses getplatformmetadata and issuecredential answers for another user-assigned client id", async () => {
    // The app asked for the user-assigned identity OTHER; IMDS answers for CLIENT.
    const imds = fakeImds();
    const { msi } = testClient(imds.transport, { clientId: OTHER });
    await expect(msi.acquireToken(pop)).rejects.toMatchObject({
      code: "managed_identity_request_failed",
      message: expect.stringMatching(
        /getplatformmetadata answered for a different client id than the user-assigned/,
      ),
    });
    expect(imds.count(ISSUE)).toBe(0);

    // getplatformmetadata agrees with the request, issuecredential does not.
    const switched = fakeImds((_r, path) =>
      path === PLATFORM
        ? json(
            200,
            { clientId: OTHER, tenantId: TENANT, cuId: { vmId: "v" }, attestationEndpoint: "https://a" },
            { server: "IMDS/1" },
          )
        : undefined,
    );
    const second = testClient(switched.transport, { clientId: OTHER }).msi;
    await expect(second.acquireToken(pop)).rejects.toMatchObject({
      code: "managed_identity_request_failed",
      message: expect.stringMatching(/issuecredential answered for a different client id/),
    });
    expect(switched.issued).toBe(1);
    expect(switched.count(`/${TENANT}/oauth2/v2.0/token`)).toBe(0);
  });

  it("compares ids without regard to case (GUIDs)", async () => {
    const imds = fakeImds();
    const { msi } = testClient(imds.transport, { clientId: CLIENT.toUpperCase() });
    await expect(msi.acquireToken(pop)).resolves.toMatchObject({ tokenType: "mtls_pop" });
  });
});

describe("mtls_authentication_endpoint is checked", () => {
  const accepted = [
    ["https://mtlsauth.microsoft.com", "https://mtlsauth.microsoft.com"],
    ["https://westus3.mtlsauth.microsoft.com/", "https://westus3.mtlsauth.microsoft.com"],
    ["https://WestUS3.MTLSAUTH.microsoft.com", "https://westus3.mtlsauth.microsoft.com"],
    ["https://mtlsauth.microsoftonline.us", "https://mtlsauth.microsoftonline.us"],
    [
      "https://usgovvirginia.mtlsauth.microsoftonline.us",
      "https://usgovvirginia.mtlsauth.microsoftonline.us",
    ],
    ["https://mtlsauth.partner.microsoftonline.cn", "https://mtlsauth.partner.microsoftonline.cn"],
    [
      "https://chinanorth3.mtlsauth.partner.microsoftonline.cn",
      "https://chinanorth3.mtlsauth.partner.microsoftonline.cn",
    ],
  ] as const;
  for (const [value, origin] of accepted) {
    it(`accepts ${value}`, () => {
      expect(checkMtlsAuthenticationEndpoint(value, "c")).toBe(origin);
    });
  }

  const refused: Array<[string, RegExp]> = [
    ["http://westus3.mtlsauth.microsoft.com", /not https/],
    ["https://user:pass@westus3.mtlsauth.microsoft.com", /userinfo/],
    ["https://evil@mtlsauth.microsoft.com", /userinfo/],
    ["https://evil.example", /not an Entra ID mTLS host/],
    ["https://mtlsauth.microsoft.com.evil.example", /not an Entra ID mTLS host/],
    ["https://evilmtlsauth.microsoft.com", /not an Entra ID mTLS host/],
    ["https://a.b.mtlsauth.microsoft.com", /not an Entra ID mTLS host/],
    ["https://login.microsoftonline.com", /not an Entra ID mTLS host/],
    ["https://127.0.0.1", /not an Entra ID mTLS host/],
    ["https://mtlsauth.microsoft.com:8443", /port, path/],
    ["https://mtlsauth.microsoft.com/evil-tenant", /port, path/],
    ["https://mtlsauth.microsoft.com/?x=1", /port, path/],
    ["https://mtlsauth.microsoft.com/#f", /port, path/],
    ["not a url", /not a URL/],
    ["https://mtlsauth.microsoft.com\r\nX-Evil: 1", /not a URL|not an Entra/],
  ];
  for (const [value, reason] of refused) {
    it(`refuses ${JSON.stringify(value)}`, () => {
      let error: unknown;
      try {
        checkMtlsAuthenticationEndpoint(value, "corr");
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: "managed_identity_request_failed", correlationId: "corr" });
      expect((error as Error).message).toMatch(reason);
      expect((error as Error).message).toMatch(/mtlsAuthorityHost/);
    });
  }

  it("a lying IMDS gets no token request sent to its host, and nothing is cached", async () => {
    let lie = true;
    const imds = fakeImds();
    const send = imds.transport.send.bind(imds.transport);
    imds.transport.send = async (request) => {
      const response = await send(request);
      if (pathOf(request) !== ISSUE || !lie) return response;
      lie = false;
      const body = JSON.parse(response.body) as Record<string, unknown>;
      return json(200, { ...body, mtls_authentication_endpoint: "https://attacker.example" });
    };
    const { msi } = testClient(imds.transport);
    await expect(msi.acquireToken(pop)).rejects.toMatchObject({ code: "managed_identity_request_failed" });
    expect(imds.transport.requests.some((r) => new URL(r.url).hostname === "attacker.example")).toBe(false);
    await expect(msi.acquireToken(pop)).resolves.toMatchObject({ tokenType: "mtls_pop" });
    expect(imds.issued).toBe(2);
  });

  it("an app-configured mtlsAuthorityHost replaces IMDS's answer (a private cloud, the emulator)", async () => {
    const imds = fakeImds((request, path) => {
      if (path === `/base/${TENANT}/oauth2/v2.0/token`) {
        return json(200, {
          access_token: `pop-${request.clientIdentity?.x5tS256}`,
          token_type: "mtls_pop",
          expires_in: 3600,
        });
      }
      return undefined;
    });
    const { msi } = testClient(imds.transport, { mtlsAuthorityHost: "https://127.0.0.1:8443/base/" });
    const result = await msi.acquireToken(pop);
    expect(result.metadata.tokenEndpoint).toBe(`https://127.0.0.1:8443/base/${TENANT}/oauth2/v2.0/token`);
    expect(imds.transport.requests.some((r) => r.url.startsWith(MTLS))).toBe(false);
  });

  it("mtlsAuthorityHost itself must be a plain https URL", () => {
    for (const bad of ["http://127.0.0.1:8443", "https://u:p@host", "https://host/?q", "nope", 42]) {
      expect(() => testClient(fakeImds().transport, { mtlsAuthorityHost: bad as never })).toThrow(
        expect.objectContaining({
          code: "invalid_options",
          message: expect.stringMatching(/mtlsAuthorityHost/),
        }),
      );
    }
  });
});
