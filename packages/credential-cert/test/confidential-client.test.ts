// The client's logic against a scripted transport: what it sends where, and what it refuses before
// sending anything. The real wire (TLS, the emulator) is in confidential-client.e2e.test.ts.

import { constants, verify } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type CertboundErrorCode,
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
  isCertboundError,
  type LogLevel,
} from "@certbound/core";
import { createCertificateAuthority } from "@certbound/core/credential-kit";
import { createTestClock } from "@certbound/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConfidentialClientOptions, createConfidentialClient } from "../src/index";
import { fetchTransport } from "./fetch-transport";

const TENANT = "8d6c2f5e-0000-4000-8000-00000000c0de";
const AUTHORITY = `https://login.microsoftonline.com/${TENANT}`;
const SCOPE = "https://vault.azure.net/.default";
const ca = createCertificateAuthority({ commonName: "client test CA" });
const ecCert = ca.issue({ commonName: "ec-app" });
let rsaCert: ReturnType<typeof ca.issue>;
beforeAll(() => {
  rsaCert = ca.issue({ commonName: "rsa-app", keyType: "rsa" });
});

type Handler = (request: HttpRequest) => HttpResponse;
const tokenAnswer = (tokenType: string, token = `token-${Math.random()}`): HttpResponse => ({
  status: 200,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ access_token: token, token_type: tokenType, expires_in: 3600 }),
});
const popOrBearer: Handler = (request) =>
  tokenAnswer(
    new URLSearchParams(String(request.body)).get("token_type") === "mtls_pop" ? "mtls_pop" : "Bearer",
  );

function scripted(handler: Handler = popOrBearer): HttpTransport & { requests: HttpRequest[] } {
  const requests: HttpRequest[] = [];
  return {
    requests,
    async send(request) {
      requests.push(request);
      return handler(request);
    },
  };
}

function client(overrides: Partial<ConfidentialClientOptions> = {}) {
  const transport = scripted();
  const clock = createTestClock({ now: Date.now() });
  const app = createConfidentialClient({
    clientId: "app-id-1",
    authority: AUTHORITY,
    certificate: { certificatePem: ecCert.certificatePem, privateKey: ecCert.privateKey },
    transport,
    clock,
    env: {},
    ...overrides,
  });
  return { app, transport: (overrides.transport as ReturnType<typeof scripted>) ?? transport, clock };
}

async function codeOf(
  promise: Promise<unknown> | (() => unknown),
): Promise<{ code: CertboundErrorCode; message: string }> {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    if (isCertboundError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected a CertboundError");
}

const form = (request: HttpRequest | undefined) =>
  Object.fromEntries(new URLSearchParams(String(request?.body)));

describe("options are validated eagerly", () => {
  const valid: ConfidentialClientOptions = {
    clientId: "app",
    authority: AUTHORITY,
    certificate: { certificatePem: ecCert.certificatePem, privateKey: ecCert.privateKey },
    transport: scripted(),
  };
  it.each<[string, Partial<Record<keyof ConfidentialClientOptions, unknown>>, CertboundErrorCode, RegExp]>([
    ["no clientId", { clientId: "" }, "invalid_options", /clientId/],
    ["no authority", { authority: undefined }, "invalid_options", /authority/],
    [
      "/common",
      { authority: "https://login.microsoftonline.com/common" },
      "missing_tenanted_authority",
      /tenant/,
    ],
    [
      "/organizations",
      { authority: "https://login.microsoftonline.com/organizations/" },
      "missing_tenanted_authority",
      /tenant/,
    ],
    [
      "/consumers",
      { authority: "https://login.microsoftonline.com/consumers" },
      "missing_tenanted_authority",
      /tenant/,
    ],
    [
      "no transport",
      { transport: undefined },
      "invalid_options",
      /@certbound\/http-undici.*@certbound\/http-axios/,
    ],
    ["no certificate", { certificate: undefined }, "invalid_options", /certificate/],
    ["a string certificate", { certificate: "cert.pem" }, "invalid_options", /certificate/],
    ["a non-boolean sendX5c", { sendX5c: "yes" }, "invalid_options", /sendX5c/],
    [
      "an unknown assertion algorithm",
      { assertionAlgorithm: "HS256" },
      "invalid_options",
      /assertionAlgorithm/,
    ],
    ["a non-string region", { azureRegion: 3 }, "invalid_options", /azureRegion/],
    ["an http authorityHost", { authorityHost: "http://127.0.0.1:1" }, "invalid_options", /authorityHost/],
    ["a bad mtlsAuthorityHost", { mtlsAuthorityHost: "not a url" }, "invalid_options", /mtlsAuthorityHost/],
    ["a non-PEM ca", { ca: [1] }, "invalid_options", /ca/],
    ["a bad imdsEndpoint", { imdsEndpoint: "169.254.169.254" }, "invalid_options", /imdsEndpoint/],
    ["a cache without set", { cache: { get: () => undefined } }, "invalid_options", /cache/],
    ["a logger without log", { logger: {} }, "invalid_options", /logger/],
    ["a clock without sleep", { clock: { now: Date.now } }, "invalid_options", /clock/],
    [
      "a key that does not match",
      { certificate: { certificatePem: ecCert.certificatePem, privateKey: ca.privateKey } },
      "cert_without_private_key",
      /does not belong/,
    ],
  ])("refuses %s", async (_name, change, code, message) => {
    const error = await codeOf(() =>
      createConfidentialClient({ ...valid, ...change } as ConfidentialClientOptions),
    );
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.message).toContain("@certbound/credential-cert");
  });

  it("refuses a fixed certificate that has expired by the injected clock", async () => {
    const clock = createTestClock({ now: ecCert.notAfter.getTime() + 1000 });
    const error = await codeOf(() => createConfidentialClient({ ...valid, clock }));
    expect(error.code).toBe("certificate_expired");
  });

  it("refuses bad requests", async () => {
    const { app, transport } = client();
    for (const request of [
      { scopes: [] },
      { scopes: [""] },
      { scopes: "x" },
      { scopes: [SCOPE], claims: "" },
    ]) {
      expect((await codeOf(app.acquireTokenForClient(request as never))).code).toBe("invalid_options");
    }
    expect(transport.requests).toHaveLength(0);
  });
});

describe("misspelt options are refused, not ignored", () => {
  it("a misspelt request key fails on every call with the closest known key, and nothing is sent", async () => {
    const { app, transport } = client({ transport: scripted(popOrBearer) });
    for (const [request, message] of [
      // Ignored, this would have made a Bearer request.
      [
        { scopes: [SCOPE], mtlsProofOfPossesion: true },
        "@certbound/credential-cert: Unknown option `mtlsProofOfPossesion` in the acquireTokenForClient request; did you mean `mtlsProofOfPossession`?",
      ],
      [{ scopes: [SCOPE], mtlsProofOfPossession: true, forcerefresh: true }, "did you mean `forceRefresh`?"],
      [{ scope: [SCOPE] }, "did you mean `scopes`?"],
    ] as const) {
      for (let call = 0; call < 2; call++) {
        expect(await codeOf(app.acquireTokenForClient(request as never))).toEqual({
          code: "invalid_options",
          message: expect.stringContaining(message),
        });
      }
    }
    expect(transport.requests).toHaveLength(0);
    // The same request spelt right goes out, and the next one is a cache hit.
    await app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true });
    await app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true, forceRefresh: false });
    expect(transport.requests).toHaveLength(1);
  });

  it.each([
    [{ mtlsAuthorityHots: "https://127.0.0.1:8443" }, "did you mean `mtlsAuthorityHost`?"],
    [{ azureregion: "westus3" }, "did you mean `azureRegion`?"],
    [{ client_id: "x" }, "did you mean `clientId`?"],
    [{ tokenEndpoint: "x" }, "known options: `clientId`, `authority`"],
  ])("client option %j fails naming the closest known key", async (extra, message) => {
    expect(await codeOf(() => client(extra as never))).toEqual({
      code: "invalid_options",
      message: expect.stringContaining(message),
    });
  });

  it("a certificate's `keyPem` (what a test CA hands out) points to `privateKeyPem`, also from a provider", async () => {
    const issued = { certificatePem: rsaCert.certificatePem, keyPem: rsaCert.keyPem };
    const message =
      "@certbound/credential-cert: Unknown option `keyPem` in `certificate`; did you mean `privateKeyPem`?";
    expect(await codeOf(() => client({ certificate: issued as never }))).toEqual({
      code: "invalid_options",
      message,
    });
    const { app } = client({ certificate: () => issued as never });
    expect(await codeOf(app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true }))).toEqual(
      {
        code: "invalid_options",
        message,
      },
    );
    // Named like the option, an issued certificate's key goes straight in.
    const named = client({
      certificate: { certificatePem: rsaCert.certificatePem, privateKeyPem: rsaCert.privateKeyPem },
      transport: scripted(popOrBearer),
    });
    expect((await named.app.acquireTokenForClient({ scopes: [SCOPE] })).tokenType).toBe("Bearer");
    // A whole IssuedCertificate / BindingCertificate (with its KeyObject) is accepted as it is.
    const whole = client({ certificate: rsaCert, transport: scripted(popOrBearer) });
    const pop = await whole.app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true });
    expect(pop.bindingCertificate?.x5tS256).toBe(rsaCert.x5tS256);
  });
});

describe("mTLS PoP requests", () => {
  it("go to the global mtlsauth host with exactly the PoP form, the certificate as TLS identity and no assertion", async () => {
    const { app, transport } = client({ ca: "CA-PEM" });
    const result = await app.acquireTokenForClient({
      scopes: [SCOPE],
      mtlsProofOfPossession: true,
      correlationId: "cid-1",
    });
    const request = transport.requests[0];
    expect(request?.url).toBe(`https://mtlsauth.microsoft.com/${TENANT}/oauth2/v2.0/token`);
    expect(form(request)).toEqual({
      client_id: "app-id-1",
      grant_type: "client_credentials",
      scope: SCOPE,
      client_info: "2",
      token_type: "mtls_pop",
    });
    expect(request?.clientIdentity?.x5tS256).toBe(ecCert.x5tS256);
    expect(request?.ca).toBe("CA-PEM");
    expect(request?.headers["client-request-id"]).toBe("cid-1");
    expect(request?.headers["x-ms-lib-capability"]).toBe("retry-after, h429");
    expect(result.tokenType).toBe("mtls_pop");
    expect(result.bindingCertificate?.x5tS256).toBe(ecCert.x5tS256);
    expect(result.bindingCertificate?.privateKey).toBe(ecCert.privateKey);
    expect(result.tenantId).toBe(TENANT);
    expect(result.metadata.tokenEndpoint).toBe(request?.url);
  });

  it("send claims when given, space-separate scopes, and use the regional host", async () => {
    const { app, transport } = client({ azureRegion: "westus3" });
    await app.acquireTokenForClient({
      scopes: ["a/.default", "b"],
      mtlsProofOfPossession: true,
      claims: '{"x":1}',
    });
    expect(transport.requests[0]?.url).toBe(
      `https://westus3.mtlsauth.microsoft.com/${TENANT}/oauth2/v2.0/token`,
    );
    expect(form(transport.requests[0])).toMatchObject({ scope: "a/.default b", claims: '{"x":1}' });
  });

  it("use mtlsAuthorityHost when set", async () => {
    const { app, transport } = client({
      authority: `https://127.0.0.1:9/${TENANT}`,
      mtlsAuthorityHost: "https://127.0.0.1:8443/",
      azureRegion: "westus3",
    });
    await app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true });
    expect(transport.requests[0]?.url).toBe(`https://127.0.0.1:8443/${TENANT}/oauth2/v2.0/token`);
  });

  it.each([
    ["https://login.usgovcloudapi.net", /login\.microsoftonline\.us/],
    ["https://login.chinacloudapi.cn", /login\.partner\.microsoftonline\.cn/],
    ["https://127.0.0.1:8443", /mtlsAuthorityHost/],
  ])("are refused on %s before any network call", async (host, hint) => {
    const provider = { calls: 0 };
    const { app, transport } = client({
      authority: `${host}/${TENANT}`,
      certificate: () => {
        provider.calls++;
        return { certificatePem: ecCert.certificatePem, privateKey: ecCert.privateKey };
      },
    });
    const error = await codeOf(app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true }));
    expect(error.code).toBe("mtls_pop_not_supported_for_environment");
    expect(error.message).toMatch(hint);
    expect(transport.requests).toHaveLength(0);
    expect(provider.calls).toBe(0);
  });

  // Follows MSAL.NET tests/Microsoft.Identity.Test.Unit/PublicApiTests/MtlsPopTests.cs
  // NonLoginHosts_ThrowsMsalClientException_Async: region auto-detection on (REGION_NAME set), and
  // still no region lookup, certificate or token request happens.
  it.each(["sts.windows.net", "mtlsauth.microsoft.com", "graph.microsoft.com"])(
    "are refused on %s (not a login. host) before any network call; Bearer still works there",
    async (host) => {
      const provider = { calls: 0 };
      const { app, transport } = client({
        authority: `https://${host}/${TENANT}`,
        azureRegion: "TryAutoDetect",
        env: { REGION_NAME: "eastus" },
        certificate: () => {
          provider.calls++;
          return { certificatePem: rsaCert.certificatePem, privateKey: rsaCert.privateKey };
        },
      });
      const error = await codeOf(app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true }));
      expect(error.code).toBe("mtls_pop_not_supported_for_environment");
      expect(error.message).toContain(host);
      expect(transport.requests).toHaveLength(0);
      expect(provider.calls).toBe(0);
      if (host === "sts.windows.net") {
        await app.acquireTokenForClient({ scopes: [SCOPE] });
        expect(transport.requests.map((r) => r.url)).toEqual([
          `https://eastus.login.microsoft.com/${TENANT}/oauth2/v2.0/token`,
        ]);
      }
    },
  );

  it("with a provider returning nothing fail with mtls_certificate_not_provided", async () => {
    const { app, transport } = client({ certificate: () => undefined as never });
    expect(
      (await codeOf(app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true }))).code,
    ).toBe("mtls_certificate_not_provided");
    expect(transport.requests).toHaveLength(0);
  });

  it("call the provider once per call and key the cache by its certificate", async () => {
    let current = ecCert;
    let calls = 0;
    const { app, transport } = client({
      certificate: () => {
        calls++;
        return { certificatePem: current.certificatePem, privateKey: current.privateKey };
      },
    });
    const first = await app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true });
    expect(calls).toBe(1);
    const cached = await app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true });
    expect(calls).toBe(2);
    expect(cached.metadata.tokenSource).toBe("cache");
    expect(cached.accessToken).toBe(first.accessToken);
    current = ca.issue({ commonName: "rotated" });
    const rotated = await app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true });
    expect(rotated.metadata.tokenSource).toBe("identity_provider");
    expect(rotated.bindingCertificate?.x5tS256).toBe(current.x5tS256);
    expect(rotated.accessToken).not.toBe(first.accessToken);
    expect(transport.requests.map((r) => r.clientIdentity?.x5tS256)).toEqual([
      ecCert.x5tS256,
      current.x5tS256,
    ]);
  });

  it("share one request among concurrent callers", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let arrived: () => void = () => {};
    const firstRequest = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const transport = scripted();
    const slow: HttpTransport & { requests: HttpRequest[] } = {
      requests: transport.requests,
      send: async (request) => {
        const answer = transport.send(request);
        arrived();
        await gate;
        return answer;
      },
    };
    const { app } = client({ transport: slow });
    const calls = Array.from({ length: 20 }, () =>
      app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true }),
    );
    // Every caller is waiting by the time the one request is in flight.
    await firstRequest;
    release();
    const results = await Promise.all(calls);
    expect(transport.requests).toHaveLength(1);
    expect(new Set(results.map((r) => r.accessToken)).size).toBe(1);
  });

  it("refuse a certificate that expired while the app ran (injected clock)", async () => {
    const { app, clock, transport } = client();
    await clock.advance(ecCert.notAfter.getTime() - clock.now() + 1);
    expect(
      (await codeOf(app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true }))).code,
    ).toBe("certificate_expired");
    expect(transport.requests).toHaveLength(0);
  });

  it("fail with token_type_mismatch when a Bearer token comes back", async () => {
    const { app } = client({ transport: scripted(() => tokenAnswer("Bearer")) });
    expect(
      (await codeOf(app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true }))).code,
    ).toBe("token_type_mismatch");
  });
});

describe("Bearer requests", () => {
  it("go to the regular host with a signed client assertion and no TLS identity", async () => {
    const { app, transport, clock } = client({
      certificate: { certificatePem: rsaCert.certificatePem, privateKey: rsaCert.privateKey },
    });
    const result = await app.acquireTokenForClient({ scopes: [SCOPE] });
    const request = transport.requests[0];
    const url = `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`;
    expect(request?.url).toBe(url);
    expect(request?.clientIdentity).toBeUndefined();
    const fields = form(request);
    expect(Object.keys(fields)).toEqual([
      "client_id",
      "grant_type",
      "scope",
      "client_assertion_type",
      "client_assertion",
      "client_info",
    ]);
    expect(fields).toMatchObject({
      client_id: "app-id-1",
      grant_type: "client_credentials",
      scope: SCOPE,
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_info: "2",
    });
    const [h, c, s] = (fields.client_assertion as string).split(".") as [string, string, string];
    const header = JSON.parse(Buffer.from(h, "base64url").toString());
    const claims = JSON.parse(Buffer.from(c, "base64url").toString());
    expect(header).toEqual({ alg: "PS256", typ: "JWT", "x5t#S256": rsaCert.x5tS256 });
    expect(claims).toMatchObject({
      aud: url,
      iss: "app-id-1",
      sub: "app-id-1",
      iat: Math.floor(clock.now() / 1000),
    });
    expect(claims.exp - claims.iat).toBe(600);
    expect(
      verify(
        "sha256",
        Buffer.from(`${h}.${c}`),
        { key: rsaCert.certificate.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        Buffer.from(s, "base64url"),
      ),
    ).toBe(true);
    expect(result.tokenType).toBe("Bearer");
    expect(result.bindingCertificate).toBeUndefined();
  });

  it("put x5c in the assertion exactly when sendX5c is set, and use the regional host", async () => {
    const header = (request: HttpRequest | undefined) =>
      JSON.parse(
        Buffer.from(
          (form(request).client_assertion as string).split(".")[0] as string,
          "base64url",
        ).toString(),
      );
    const cert = { certificatePem: rsaCert.certificatePem, privateKey: rsaCert.privateKey };
    const off = client({ certificate: cert, azureRegion: "westus3" });
    await off.app.acquireTokenForClient({ scopes: [SCOPE] });
    expect(off.transport.requests[0]?.url).toBe(
      `https://westus3.login.microsoft.com/${TENANT}/oauth2/v2.0/token`,
    );
    expect(header(off.transport.requests[0])).not.toHaveProperty("x5c");
    const on = client({ certificate: cert, sendX5c: true, assertionAlgorithm: "RS256" });
    await on.app.acquireTokenForClient({ scopes: [SCOPE] });
    expect(header(on.transport.requests[0])).toMatchObject({
      alg: "RS256",
      x5c: [rsaCert.certificate.raw.toString("base64")],
    });
  });

  it("are refused for an EC certificate with a clear error", async () => {
    const { app, transport } = client();
    const error = await codeOf(app.acquireTokenForClient({ scopes: [SCOPE] }));
    expect(error.code).toBe("invalid_certificate");
    expect(error.message).toMatch(/RSA/);
    expect(transport.requests).toHaveLength(0);
  });

  it("never share cache entries with PoP", async () => {
    const { app, transport } = client({
      certificate: { certificatePem: rsaCert.certificatePem, privateKey: rsaCert.privateKey },
    });
    const pop = await app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true });
    const bearer = await app.acquireTokenForClient({ scopes: [SCOPE] });
    expect(bearer.metadata.tokenSource).toBe("identity_provider");
    expect(bearer.tokenType).toBe("Bearer");
    expect(bearer.accessToken).not.toBe(pop.accessToken);
    expect((await app.acquireTokenForClient({ scopes: [SCOPE] })).accessToken).toBe(bearer.accessToken);
    expect(
      (await app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true })).accessToken,
    ).toBe(pop.accessToken);
    expect(transport.requests).toHaveLength(2);
  });

  it("keep the assertion and token out of logs", async () => {
    const lines: string[] = [];
    const { app, transport } = client({
      certificate: { certificatePem: rsaCert.certificatePem, privateKey: rsaCert.privateKey },
      logger: {
        level: "verbose",
        log: (level: LogLevel, message, fields) =>
          lines.push(`${level} ${message} ${JSON.stringify(fields)}`),
      },
      transport: scripted(() => ({ status: 500, headers: {}, body: "{}" })),
    });
    await codeOf(app.acquireTokenForClient({ scopes: [SCOPE] }));
    const assertion = form(transport.requests[0]).client_assertion as string;
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).not.toContain(assertion.split(".")[2]);
  });
});

describe("azureRegion: auto", () => {
  let server: Server;
  let imdsEndpoint: string;
  let computeCalls = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url?.startsWith("/metadata/instance/compute")) computeCalls++;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ location: "eastus2" }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    imdsEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("asks the environment first", async () => {
    const { app, transport } = client({
      azureRegion: "auto",
      env: { REGION_NAME: "northeurope" },
      imdsEndpoint,
    });
    await app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true });
    expect(transport.requests[0]?.url).toBe(
      `https://northeurope.mtlsauth.microsoft.com/${TENANT}/oauth2/v2.0/token`,
    );
    expect(computeCalls).toBe(0);
  });

  it("then IMDS, once per app (AZURE_POD_IDENTITY_AUTHORITY_HOST from env)", async () => {
    computeCalls = 0;
    const http = fetchTransport();
    const tokens = scripted();
    const transport: HttpTransport = {
      send: (request) => (request.url.startsWith("http://") ? http.send(request) : tokens.send(request)),
    };
    const { app } = client({
      azureRegion: "auto",
      env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: imdsEndpoint },
      transport,
    });
    await app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true });
    await app.acquireTokenForClient({ scopes: ["other/.default"], mtlsProofOfPossession: true });
    expect(tokens.requests.map((r) => new URL(r.url).host)).toEqual([
      "eastus2.mtlsauth.microsoft.com",
      "eastus2.mtlsauth.microsoft.com",
    ]);
    expect(computeCalls).toBe(1);
    expect(http.sent).toEqual([`GET ${imdsEndpoint}/metadata/instance/compute?api-version=2021-02-01`]);
  });

  it("ignores an invalid explicit region (global host)", async () => {
    const { app, transport } = client({ azureRegion: "west us" });
    await app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true });
    expect(transport.requests[0]?.url).toBe(`https://mtlsauth.microsoft.com/${TENANT}/oauth2/v2.0/token`);
  });
});

describe("service errors", () => {
  const errorAnswer =
    (error: string): Handler =>
    () => ({
      status: 401,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        error,
        error_description: `AADSTS700027: something about ${error}.\r\nTrace ID: t`,
        error_codes: [700027],
        correlation_id: "corr-1",
        trace_id: "trace-1",
      }),
    });

  it("invalid_client suggests registering the certificate or enabling SNI with sendX5c", async () => {
    const { app } = client({ transport: scripted(errorAnswer("invalid_client")) });
    const error = await app
      .acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true })
      .catch((e) => e);
    expect(error).toMatchObject({
      name: "ServiceError",
      code: "service_error",
      errorCode: "invalid_client",
      status: 401,
    });
    expect(error.message).toMatch(/Register it on the app registration/);
    expect(error.message).toMatch(/sendX5c: true/);
    expect(error.correlationId).toBe("corr-1");
  });

  it("unauthorized_client suggests granting permissions", async () => {
    const { app } = client({ transport: scripted(errorAnswer("unauthorized_client")) });
    const error = await app
      .acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true })
      .catch((e) => e);
    expect(error.errorCode).toBe("unauthorized_client");
    expect(error.message).toMatch(/grant it the application permission/);
  });

  it("AADSTS700016 (application not found) leads with a wrong tenant or a deleted app, not app roles", async () => {
    // Entra's answer for a client id the tenant does not know: `unauthorized_client` with 700016.
    const entra700016: Handler = () => ({
      status: 400,
      headers: { "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify({
        error: "unauthorized_client",
        error_description: `AADSTS700016: Application with identifier 'app-id-1' was not found in the directory 'Contoso'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.\r\nTrace ID: 0b8f\r\nCorrelation ID: corr-16\r\nTimestamp: 2026-12-01 05:00:00Z`,
        error_codes: [700016],
        timestamp: "2026-12-01 05:00:00Z",
        trace_id: "0b8f",
        correlation_id: "corr-16",
        error_uri: "https://login.microsoftonline.com/error?code=700016",
      }),
    });
    const { app } = client({ transport: scripted(entra700016) });
    const error = await app
      .acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true })
      .catch((e) => e);
    expect(error).toMatchObject({ errorCode: "unauthorized_client", errorCodes: [700016], status: 400 });
    const hint = error.message.slice(error.message.indexOf("wrong tenant.). ") + "wrong tenant.). ".length);
    expect(hint).toMatch(
      /^This client id does not exist in this tenant \(wrong tenant, or the app was deleted\)/,
    );
    expect(hint).not.toMatch(/app role|permission|consent/);
  });
});

describe("close()", () => {
  it("makes later calls fail", async () => {
    const { app, transport } = client();
    app.close();
    expect(
      (await codeOf(app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true }))).code,
    ).toBe("aborted");
    expect(transport.requests).toHaveLength(0);
  });
});

describe("close() is async and the client is AsyncDisposable", () => {
  it("close() returns a promise, is idempotent, and Symbol.asyncDispose does the same", async () => {
    const { app, transport } = client();
    await expect(app.close()).resolves.toBeUndefined();
    await expect(app.close()).resolves.toBeUndefined();
    const disposed = client().app;
    await disposed[Symbol.asyncDispose]();
    expect((await codeOf(disposed.getToken([SCOPE]))).code).toBe("aborted");
    expect(transport.requests).toHaveLength(0);
  });

  it("`await using` closes the client when the block ends", async () => {
    let escaped: ReturnType<typeof client>["app"] | undefined;
    {
      await using app = client().app;
      escaped = app;
      expect((await app.getToken([SCOPE], { mtlsProofOfPossession: true })).tokenType).toBe("mtls_pop");
    }
    expect((await codeOf(escaped.getToken([SCOPE]))).code).toBe("aborted");
  });
});

describe("getToken (the Credential method)", () => {
  it("is acquireTokenForClient: same cache, same token, options passed through", async () => {
    const { app, transport } = client();
    const viaMsalShape = await app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true });
    const viaCredential = await app.getToken([SCOPE], { mtlsProofOfPossession: true });
    expect(viaCredential.accessToken).toBe(viaMsalShape.accessToken);
    expect(viaCredential.metadata.tokenSource).toBe("cache");
    expect(transport.requests).toHaveLength(1);

    const forced = await app.getToken([SCOPE], {
      mtlsProofOfPossession: true,
      forceRefresh: true,
      claims: '{"access_token":{"xms_cc":{"values":["cp1"]}}}',
      correlationId: "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
    });
    expect(forced.metadata.tokenSource).toBe("identity_provider");
    expect(forced.accessToken).not.toBe(viaMsalShape.accessToken);
    expect(form(transport.requests[1])).toMatchObject({
      token_type: "mtls_pop",
      claims: '{"access_token":{"xms_cc":{"values":["cp1"]}}}',
    });
    expect(transport.requests[1]?.headers["client-request-id"]).toBe("3f2504e0-4f89-11d3-9a0c-0305e82c3301");
  });

  it("refuses a misspelt getToken option instead of sending a Bearer request", async () => {
    const { app, transport } = client();
    const error = await codeOf(app.getToken([SCOPE], { mtlsProofOfPossesion: true } as never));
    expect(error.code).toBe("invalid_options");
    expect(error.message).toMatch(/did you mean `mtlsProofOfPossession`\?/);
    expect(transport.requests).toHaveLength(0);
  });

  it("asks for Bearer unless told otherwise, and validates like acquireTokenForClient", async () => {
    const { app, transport } = client({
      certificate: { certificatePem: rsaCert.certificatePem, privateKey: rsaCert.privateKey },
    });
    expect((await app.getToken([SCOPE])).tokenType).toBe("Bearer");
    expect(form(transport.requests[0]).client_assertion_type).toBeDefined();
    expect((await codeOf(app.getToken([]))).code).toBe("invalid_options");
    expect((await codeOf(app.getToken([SCOPE], { mtlsProofOfPossession: "yes" as never }))).code).toBe(
      "invalid_options",
    );
  });
});
