// End to end: the client against the emulator's Entra hosts and protected resource, over real TLS
// on 127.0.0.1, with both transports. Time is the injected test clock (the emulator shares it).

import { createHash, randomUUID } from "node:crypto";
import { type HttpTransport, ResourceCaller } from "@certbound/core";
import { createCertificateAuthority, type IssuedCertificate } from "@certbound/core/credential-kit";
import { type Emulator, startEmulator } from "@certbound/emulator";
import { createAxiosTransport } from "@certbound/http-axios";
import { createUndiciTransport } from "@certbound/http-undici";
import { createTestClock, type TestClock } from "@certbound/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type CertificateInput,
  type ConfidentialClientOptions,
  createConfidentialClient,
} from "../src/index";

const ca = createCertificateAuthority({ commonName: "app certificates CA" });
let emu: Emulator;
let clock: TestClock;
let scope: string;
let rsa: IssuedCertificate;

beforeAll(async () => {
  clock = createTestClock({ now: Date.now() });
  emu = await startEmulator({ now: () => clock.now() });
  scope = `${emu.resourceUrl}/.default`;
  rsa = ca.issue({ commonName: "bearer-app", keyType: "rsa" });
});
afterAll(async () => {
  await emu?.close();
});

const payloadOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split(".")[1] as string, "base64url").toString()) as Record<string, unknown>;
const pem = (c: IssuedCertificate): CertificateInput => ({
  certificatePem: c.certificatePem,
  privateKey: c.privateKey,
});

/** Records every request body the client hands the transport (the emulator redacts assertions). */
function recording(inner: HttpTransport): HttpTransport & { bodies: string[] } {
  const bodies: string[] = [];
  return {
    bodies,
    send(request) {
      bodies.push(String(request.body ?? ""));
      return inner.send(request);
    },
  };
}

describe.each([
  ["undici", () => createUndiciTransport()],
  ["axios", () => createAxiosTransport()],
])("with the %s transport", (_name, makeTransport) => {
  let transport: HttpTransport;
  beforeAll(() => {
    transport = makeTransport();
  });
  afterAll(async () => {
    await transport?.close?.();
  });
  beforeEach(() => {
    emu.resetStats();
    emu.clearFaults();
    clock.sleeps.length = 0;
  });

  function app(
    options: Partial<ConfidentialClientOptions> & { certificate: ConfidentialClientOptions["certificate"] },
    register?: IssuedCertificate[],
  ) {
    const clientId = options.clientId ?? randomUUID();
    for (const c of register ?? [])
      emu.registerConfidentialClient({ clientId, certificatePem: c.certificatePem });
    return createConfidentialClient({
      clientId,
      authority: `${emu.authorityHost}/${emu.tenantId}`,
      authorityHost: emu.authorityHost,
      mtlsAuthorityHost: emu.mtlsAuthorityHost,
      ca: emu.caCertificatePem,
      transport,
      clock,
      env: {},
      ...options,
    });
  }

  const callResource = (token: string, identity: IssuedCertificate | undefined) =>
    transport.send({
      method: "GET",
      url: `${emu.resourceUrl}/secrets/s1`,
      headers: { authorization: `Bearer ${token}` },
      clientIdentity: identity,
      ca: emu.caCertificatePem,
    });

  it("gets an mTLS PoP token bound to the certificate, calls the resource with it, then serves it from the cache", async () => {
    const cert = ca.issue({ commonName: "pop-app" });
    const client = app({ certificate: pem(cert) }, [cert]);
    const result = await client.acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: true });
    expect(result.tokenType).toBe("mtls_pop");
    expect(result.metadata.tokenSource).toBe("identity_provider");
    expect(result.bindingCertificate?.x5tS256).toBe(cert.x5tS256);
    expect(payloadOf(result.accessToken).cnf).toEqual({ "x5t#S256": cert.x5tS256 });

    const recorded = emu.stats().recent.filter((r) => r.endpoint === "mtlsToken");
    expect(recorded).toHaveLength(1);
    expect(recorded[0]?.form).toEqual({
      client_id: expect.any(String),
      grant_type: "client_credentials",
      scope,
      client_info: "2",
      token_type: "mtls_pop",
    });
    expect(recorded[0]?.form).not.toHaveProperty("client_assertion");
    expect(recorded[0]?.clientCertificateX5tS256).toBe(cert.x5tS256);

    const response = await callResource(result.accessToken, result.bindingCertificate as IssuedCertificate);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ clientCertificateX5tS256: cert.x5tS256 });
    // Another certificate on the resource call is refused: the token is bound.
    const other = ca.issue({ commonName: "not-the-binding-certificate" });
    const refused = await callResource(result.accessToken, other);
    expect(refused.status).toBe(401);
    expect(refused.headers["www-authenticate"]).toMatch(/invalid_token/);

    const again = await client.acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: true });
    expect(again.metadata.tokenSource).toBe("cache");
    expect(again.accessToken).toBe(result.accessToken);
    expect(emu.stats().requests.mtlsToken).toBe(1);
    client.close();
  });

  it("gets a Bearer token with a client assertion; x5c is sent exactly with sendX5c", async () => {
    for (const sendX5c of [false, true]) {
      const recorder = recording(transport);
      const client = app({ certificate: pem(rsa), sendX5c, transport: recorder }, [rsa]);
      const result = await client.acquireTokenForClient({ scopes: [scope] });
      expect(result.tokenType).toBe("Bearer");
      expect(result.bindingCertificate).toBeUndefined();
      expect(payloadOf(result.accessToken)).not.toHaveProperty("cnf");
      const form = Object.fromEntries(new URLSearchParams(recorder.bodies[0]));
      const header = JSON.parse(
        Buffer.from((form.client_assertion as string).split(".")[0] as string, "base64url").toString(),
      );
      expect(header["x5t#S256"]).toBe(rsa.x5tS256);
      if (sendX5c) expect(header.x5c).toEqual([rsa.certificate.raw.toString("base64")]);
      else expect(header).not.toHaveProperty("x5c");
      const recorded = emu
        .stats()
        .recent.filter((r) => r.endpoint === "token")
        .at(-1);
      expect(recorded?.form?.client_assertion_type).toBe(
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      );
      expect(recorded?.clientCertificateX5tS256).toBeUndefined();
      client.close();
    }
    expect(emu.stats().requests.token).toBe(2);
  });

  // Follows MSAL.NET src/client/Microsoft.Identity.Client/Internal/JsonWebToken.cs (RS256 names the
  // certificate by `x5t`, SHA-1) and Entra ID's certificate-credentials page: the emulator finds the
  // registered certificate by that thumbprint alone, and refuses a certificate it does not know.
  it("gets a Bearer token with an RS256 assertion that names the certificate by x5t (SHA-1)", async () => {
    const recorder = recording(transport);
    const client = app({ certificate: pem(rsa), assertionAlgorithm: "RS256", transport: recorder }, [rsa]);
    const result = await client.acquireTokenForClient({ scopes: [scope] });
    expect(result.tokenType).toBe("Bearer");
    const form = Object.fromEntries(new URLSearchParams(recorder.bodies[0]));
    const header = JSON.parse(
      Buffer.from((form.client_assertion as string).split(".")[0] as string, "base64url").toString(),
    );
    expect(header).toEqual({
      alg: "RS256",
      typ: "JWT",
      x5t: createHash("sha1").update(rsa.certificate.raw).digest("base64url"),
    });
    client.close();

    const stranger = ca.issue({ commonName: "rs256-stranger", keyType: "rsa" });
    const refused = app({ certificate: pem(stranger), assertionAlgorithm: "RS256" }, [rsa]);
    const error = await refused.acquireTokenForClient({ scopes: [scope] }).catch((e) => e);
    expect(error).toMatchObject({ code: "service_error", errorCode: "invalid_client", status: 401 });
    refused.close();
  });

  it("never serves a cached PoP token to a Bearer request, or the reverse", async () => {
    const client = app({ certificate: pem(rsa) }, [rsa]);
    const pop = await client.acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: true });
    const bearer = await client.acquireTokenForClient({ scopes: [scope] });
    expect(bearer.tokenType).toBe("Bearer");
    expect(bearer.metadata.tokenSource).toBe("identity_provider");
    expect(bearer.accessToken).not.toBe(pop.accessToken);
    const pop2 = await client.acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: true });
    const bearer2 = await client.acquireTokenForClient({ scopes: [scope] });
    expect([pop2.accessToken, pop2.tokenType, pop2.metadata.tokenSource]).toEqual([
      pop.accessToken,
      "mtls_pop",
      "cache",
    ]);
    expect([bearer2.accessToken, bearer2.tokenType, bearer2.metadata.tokenSource]).toEqual([
      bearer.accessToken,
      "Bearer",
      "cache",
    ]);
    expect(emu.stats().requests).toMatchObject({ token: 1, mtlsToken: 1 });
    client.close();
  });

  it("picks up a rotated certificate from the provider: new token bound to it, the old one is not served", async () => {
    const first = ca.issue({ commonName: "rotating-1" });
    const second = ca.issue({ commonName: "rotating-2" });
    let current = first;
    const client = app({ certificate: () => pem(current) }, [first, second]);
    const before = await client.acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: true });
    expect(payloadOf(before.accessToken).cnf).toEqual({ "x5t#S256": first.x5tS256 });
    current = second;
    const after = await client.acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: true });
    expect(after.metadata.tokenSource).toBe("identity_provider");
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after.bindingCertificate?.x5tS256).toBe(second.x5tS256);
    expect(payloadOf(after.accessToken).cnf).toEqual({ "x5t#S256": second.x5tS256 });
    expect(
      (await client.acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: true })).accessToken,
    ).toBe(after.accessToken);
    expect(
      emu
        .stats()
        .recent.filter((r) => r.endpoint === "mtlsToken")
        .map((r) => r.clientCertificateX5tS256),
    ).toEqual([first.x5tS256, second.x5tS256]);
    expect((await callResource(after.accessToken, second)).status).toBe(200);
    client.close();
  });

  it("surfaces invalid_client for an unregistered certificate with a fix-it message", async () => {
    const registered = ca.issue({ commonName: "registered" });
    const stranger = ca.issue({ commonName: "stranger" });
    const clientId = randomUUID();
    emu.registerConfidentialClient({ clientId, certificatePem: registered.certificatePem });
    const client = app({ clientId, certificate: pem(stranger) });
    const error = await client
      .acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: true })
      .catch((e) => e);
    expect(error).toMatchObject({ name: "ServiceError", code: "service_error", errorCode: "invalid_client" });
    expect(error.message).toMatch(/Register it on the app registration/);
    expect(error.message).toMatch(/sendX5c: true/);
    expect(typeof error.correlationId).toBe("string");
    client.close();
  });

  it("AADSTS700016 for a client id the tenant does not know: the hint leads with wrong tenant / deleted app", async () => {
    const cert = ca.issue({ commonName: "unknown-app", keyType: "rsa" });
    for (const mtlsProofOfPossession of [true, false]) {
      const client = app({ certificate: pem(cert) }); // registered nowhere
      const error = await client
        .acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession })
        .catch((e) => e);
      expect(error).toMatchObject({ name: "ServiceError", errorCodes: [700016] });
      expect(error.message).toMatch(
        /\)\. This client id does not exist in this tenant \(wrong tenant, or the app was deleted\)/,
      );
      client.close();
    }
  });

  // The request has reached the emulator (which holds it, injected `hang`): the call is in flight.
  const arrived = async (endpoint: "token" | "mtlsToken" | "resource") => {
    for (let turns = 0; emu.stats().requests[endpoint] === 0; turns++) {
      if (turns > 100_000) throw new Error(`no ${endpoint} request arrived`);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };

  it.each([
    ["mTLS PoP", true, "mtlsToken"],
    ["Bearer", false, "token"],
  ] as const)(
    "close() during a %s acquisition in flight: aborted, saying the client was closed",
    async (_flow, pop, endpoint) => {
      const cert = ca.issue({ commonName: "closing-app", keyType: "rsa" });
      const client = app({ certificate: pem(cert) }, [cert]);
      emu.injectFault(endpoint, { hang: true });
      const pending = client
        .acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: pop })
        .catch((e) => e);
      await arrived(endpoint);
      client.close();
      const error = await pending;
      expect(error).toMatchObject({ name: "CertboundError", code: "aborted" });
      expect(error.message).toMatch(/the client was closed \(close\(\) was called\)/);
      expect(error.message).not.toMatch(/AbortSignal/);
      // Later calls say the same.
      const later = await client
        .acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: pop })
        .catch((e) => e);
      expect(later).toMatchObject({ code: "aborted", message: error.message });
    },
  );

  it("ResourceCaller.close() during a call in flight: aborted, saying the caller was closed; the caller's own signal keeps its message", async () => {
    const cert = ca.issue({ commonName: "resource-caller-app" });
    const client = app({ certificate: pem(cert) }, [cert]);
    const token = await client.acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: true });
    client.close();
    emu.injectFault("resource", { hang: true });
    // A transport passed in stays open for its owner; the caller's calls end all the same.
    const caller = new ResourceCaller({ transport, ca: emu.caCertificatePem });
    const pending = caller.call(token, `${emu.resourceUrl}/data`).catch((e) => e);
    await arrived("resource");
    await caller.close();
    const error = await pending;
    expect(error).toMatchObject({ name: "CertboundError", code: "aborted" });
    expect(error.message).toMatch(/the ResourceCaller was closed \(close\(\) was called\)/);
    expect(error.message).not.toMatch(/AbortSignal/);
    await expect(caller.call(token, `${emu.resourceUrl}/data`)).rejects.toMatchObject({
      code: "aborted",
      message: error.message,
    });
    // With a signal of its own, a call still ends with that signal's message when it fires.
    emu.resetStats();
    const own = new ResourceCaller({ transport, ca: emu.caCertificatePem });
    const controller = new AbortController();
    const mine = own.call(token, `${emu.resourceUrl}/data`, { signal: controller.signal }).catch((e) => e);
    await arrived("resource");
    controller.abort();
    expect(await mine).toMatchObject({
      code: "aborted",
      message: "The operation was aborted by its AbortSignal.",
    });
    await own.close();
    emu.clearFaults();
    // The transport is still usable by its owner.
    expect((await callResource(token.accessToken, cert)).status).toBe(200);
  });

  it("retries a 500 once after exactly 1000 ms on the injected clock", async () => {
    const cert = ca.issue({ commonName: "retry-app" });
    const client = app({ certificate: pem(cert) }, [cert]);
    emu.injectFault("mtlsToken", { status: 500 });
    const result = await client.acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: true });
    expect(result.tokenType).toBe("mtls_pop");
    expect(clock.sleeps).toEqual([1000]);
    expect(emu.stats().requests.mtlsToken).toBe(2);
    client.close();
  });

  it("does not retry a 429 with Retry-After and blocks the identical request locally until it passes", async () => {
    const cert = ca.issue({ commonName: "throttled-app" });
    const client = app({ certificate: pem(cert) }, [cert]);
    emu.injectFault("mtlsToken", { status: 429, headers: { "retry-after": "30" } });
    const request = { scopes: [scope], mtlsProofOfPossession: true };
    const first = await client.acquireTokenForClient(request).catch((e) => e);
    expect(first).toMatchObject({ name: "ServiceError", status: 429, retryAfterMs: 30_000 });
    expect(clock.sleeps).toEqual([]);
    const blocked = await client.acquireTokenForClient(request).catch((e) => e);
    expect(blocked).toMatchObject({ code: "throttled" });
    expect(emu.stats().requests.mtlsToken).toBe(1);
    await clock.advance(30_000);
    const later = await client.acquireTokenForClient(request);
    expect(later.tokenType).toBe("mtls_pop");
    expect(emu.stats().requests.mtlsToken).toBe(2);
    client.close();
  });
});
