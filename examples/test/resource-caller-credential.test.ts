// ResourceCaller given a credential, against the emulator's protected resource: it acquires the
// token itself and, when the resource challenges it, re-acquires once and retries once.
// Follows MSAL.NET's claims-challenge handling: tests/Microsoft.Identity.Test.Unit/
// WwwAuthenticateParametersTests.cs CreateRawParameters_ClaimsAndErrorReturned (base64 claims in
// `WWW-Authenticate: Bearer ... error="insufficient_claims", claims="..."`, decoded as
// src/client/Microsoft.Identity.Client/WwwAuthenticateParameters.cs GetJsonFragment does).
import { type Credential, type GetTokenOptions, ResourceCaller, type TokenResult } from "@certbound/core";
import { createCertificateAuthority } from "@certbound/core/credential-kit";
import { type ConfidentialClient, createConfidentialClient } from "@certbound/credential-cert";
import { type Emulator, startEmulator } from "@certbound/emulator";
import { createUndiciTransport, type UndiciTransport } from "@certbound/http-undici";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

let emu: Emulator;
let transport: UndiciTransport;
let app: ConfidentialClient;
let scope: string;
let url: string;
const appCert = createCertificateAuthority({ commonName: "challenge tests" }).issue({
  commonName: "challenged-app",
  keyType: "rsa",
});
const CLAIMS = '{"access_token":{"nbf":{"essential":true,"value":"1733011200"}}}';
const ENCODED = Buffer.from(CLAIMS).toString("base64");

/** Records every getToken call of the client it wraps. */
function recorded(inner: Credential): Credential & { calls: GetTokenOptions[] } {
  const calls: GetTokenOptions[] = [];
  return {
    calls,
    getToken(scopes, options = {}) {
      calls.push(options);
      return inner.getToken(scopes, options);
    },
  };
}

async function failure(call: Promise<unknown>): Promise<Error & { code: string; status?: number }> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error as Error & { code: string; status?: number },
  );
  if (!outcome) throw new Error("expected the call to fail");
  return outcome;
}

beforeAll(async () => {
  emu = await startEmulator();
  transport = createUndiciTransport({ ca: emu.caCertificatePem });
  const clientId = "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d";
  emu.registerConfidentialClient({ clientId, certificatePem: appCert.certificatePem });
  app = createConfidentialClient({
    clientId,
    authority: `https://login.microsoftonline.com/${emu.tenantId}`,
    certificate: { certificatePem: appCert.certificatePem, privateKeyPem: appCert.keyPem },
    mtlsAuthorityHost: emu.mtlsAuthorityHost,
    authorityHost: emu.authorityHost,
    transport,
  });
  scope = `${emu.resourceUrl}/.default`;
  url = `${emu.resourceUrl}/reports`;
});
afterAll(async () => {
  await app?.close();
  await transport?.close();
  await emu?.close();
});
beforeEach(async () => {
  emu.clearFaults();
  // Every test starts with a cached token, so a new token request shows a cache bypass.
  await app.getToken([scope], { mtlsProofOfPossession: true });
  emu.resetStats();
});

describe("ResourceCaller.call(credential, url, { scopes })", () => {
  it("acquires an mtls_pop token by default and presents its binding certificate", async () => {
    const credential = recorded(app);
    const response = await new ResourceCaller({ transport }).call(credential, url, { scopes: [scope] });
    expect(response.status).toBe(200);
    const echo = JSON.parse(response.body) as { clientCertificateX5tS256: string; tokenType: string };
    expect(echo).toMatchObject({ clientCertificateX5tS256: appCert.x5tS256, tokenType: "mtls_pop" });
    expect(credential.calls).toEqual([expect.objectContaining({ mtlsProofOfPossession: true })]);
    // Served from the client's cache: no token request, one resource request.
    expect(emu.stats().requests).toMatchObject({ mtlsToken: 0, resource: 1 });
  });

  it("on a 401 claims challenge, gets a new token with the decoded claims, bypassing the cache, and retries once", async () => {
    emu.injectFault("resource", {
      status: 401,
      headers: {
        "www-authenticate": `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="${ENCODED}"`,
      },
    });
    const credential = recorded(app);
    const response = await new ResourceCaller({ transport }).call(credential, url, { scopes: [scope] });
    expect(response.status).toBe(200);
    expect(credential.calls).toHaveLength(2);
    expect(credential.calls[1]).toMatchObject({
      claims: CLAIMS,
      forceRefresh: true,
      mtlsProofOfPossession: true,
    });
    expect(emu.stats().requests).toMatchObject({ mtlsToken: 1, resource: 2 });
    const tokenRequest = emu.stats().recent.find((r) => r.endpoint === "mtlsToken");
    expect(tokenRequest?.form?.claims).toBe(CLAIMS);
  });

  it("takes claims sent as plain JSON too (MSAL keeps a value that is not base64 as sent)", async () => {
    emu.injectFault("resource", {
      status: 401,
      headers: {
        "www-authenticate": `Bearer error="insufficient_claims", claims="${CLAIMS.replaceAll('"', '\\"')}"`,
      },
    });
    const credential = recorded(app);
    expect((await new ResourceCaller({ transport }).call(credential, url, { scopes: [scope] })).status).toBe(
      200,
    );
    expect(credential.calls[1]?.claims).toBe(CLAIMS);
  });

  it("on a 401 invalid_token, gets a new token (cache bypassed) and retries once", async () => {
    emu.injectFault("resource", {
      status: 401,
      headers: { "www-authenticate": 'Bearer error="invalid_token", error_description="revoked"' },
    });
    const credential = recorded(app);
    const response = await new ResourceCaller({ transport }).call(credential, url, { scopes: [scope] });
    expect(response.status).toBe(200);
    expect(credential.calls.map((c) => c.forceRefresh)).toEqual([undefined, true]);
    expect(credential.calls[1]?.claims).toBeUndefined();
    expect(emu.stats().requests).toMatchObject({ mtlsToken: 1, resource: 2 });
  });

  it("acquires a Bearer token with mtlsProofOfPossession: false", async () => {
    const credential = recorded(app);
    const error = await failure(
      new ResourceCaller({ transport }).call(credential, url, {
        scopes: [scope],
        mtlsProofOfPossession: false,
      }),
    );
    // The emulator's resource wants mutual TLS: a Bearer call presents no certificate, is refused
    // with invalid_token, gets one new Bearer token and one retry, then a typed error.
    expect(error.code).toBe("resource_unauthorized");
    expect(credential.calls.map((c) => c.mtlsProofOfPossession)).toEqual([false, false]);
  });

  it("refuses a call without scopes before any I/O", async () => {
    const credential = recorded(app);
    await expect(
      new ResourceCaller({ transport }).call(credential, url, { scopes: [] }),
    ).rejects.toMatchObject({ code: "invalid_options" });
    expect(credential.calls).toHaveLength(0);
    expect(emu.stats().requests.resource).toBe(0);
  });
});

describe("a hostile resource that answers 401 to everything", () => {
  it("with a claims challenge: exactly one new token and one retry, then resource_unauthorized", async () => {
    emu.injectFault("resource", {
      count: Number.POSITIVE_INFINITY,
      status: 401,
      headers: { "www-authenticate": `Bearer error="insufficient_claims", claims="${ENCODED}"` },
    });
    const credential = recorded(app);
    const error = await failure(new ResourceCaller({ transport }).call(credential, url, { scopes: [scope] }));
    expect(error.code).toBe("resource_unauthorized");
    expect(error.status).toBe(401);
    expect(credential.calls).toHaveLength(2);
    expect(emu.stats().requests).toMatchObject({ mtlsToken: 1, resource: 2 });
  });

  it("with invalid_token: exactly one new token and one retry, then the explained rejection", async () => {
    emu.injectFault("resource", {
      count: Number.POSITIVE_INFINITY,
      status: 401,
      headers: { "www-authenticate": 'Bearer error="invalid_token", error_description="expired"' },
    });
    const credential = recorded(app);
    const error = await failure(new ResourceCaller({ transport }).call(credential, url, { scopes: [scope] }));
    expect(error.code).toBe("resource_unauthorized");
    expect(error.message).toContain("newly acquired token too");
    expect(credential.calls).toHaveLength(2);
    expect(emu.stats().requests).toMatchObject({ mtlsToken: 1, resource: 2 });
  });

  it("with claims that are not JSON: no token request, no retry, a typed error without the header's text", async () => {
    const junk = "\r\nX-Injected: 1 not-json";
    emu.injectFault("resource", {
      count: Number.POSITIVE_INFINITY,
      status: 401,
      headers: {
        "www-authenticate": `Bearer error="insufficient_claims", claims="${Buffer.from(junk).toString("base64")}"`,
      },
    });
    const credential = recorded(app);
    const error = await failure(new ResourceCaller({ transport }).call(credential, url, { scopes: [scope] }));
    expect(error.code).toBe("resource_unauthorized");
    expect(error.message).not.toContain("X-Injected");
    expect(credential.calls).toHaveLength(1);
    expect(emu.stats().requests).toMatchObject({ mtlsToken: 0, resource: 1 });
  });

  it("a TokenResult call is never retried: the caller has no credential to ask", async () => {
    emu.injectFault("resource", {
      count: Number.POSITIVE_INFINITY,
      status: 401,
      headers: { "www-authenticate": 'Bearer error="invalid_token"' },
    });
    const result: TokenResult = await app.getToken([scope], { mtlsProofOfPossession: true });
    const error = await failure(new ResourceCaller({ transport }).call(result, url));
    expect(error.code).toBe("resource_unauthorized");
    expect(emu.stats().requests).toMatchObject({ mtlsToken: 0, resource: 1 });
  });
});
