// IMDS v2 mTLS PoP end to end: the real emulator (IMDS over HTTP, Entra's mTLS host and a protected
// resource over real TLS on 127.0.0.1) with each real transport, on a test clock (no sleeping).
import { generateKeyPairSync, X509Certificate } from "node:crypto";
import type { HttpTransport } from "@certbound/core";
import { type Emulator, startEmulator } from "@certbound/emulator";
import { createCertificateAuthority, createTestClock, type TestClock } from "@certbound/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createManagedIdentityClient, type ManagedIdentityClientOptions } from "../src/index";
import { testKeyProvider } from "./helpers/keys";
import { opensslReq, opensslVerifies } from "./helpers/openssl";
import { jwtPayload, transports } from "./helpers/transports";

describe.each(transports)("IMDS v2 PoP against the emulator (%s)", (_name, makeTransport) => {
  let clock: TestClock;
  let emu: Emulator;
  let transport: HttpTransport;
  const keyProvider = testKeyProvider();

  beforeAll(async () => {
    // Issued certificates and tokens are dated by the test clock, which starts at the real time
    // because TLS checks certificate validity against the real clock.
    clock = createTestClock({ now: Date.now() });
    emu = await startEmulator({ now: () => clock.now() });
    transport = makeTransport();
  });
  afterAll(async () => {
    await transport?.close?.();
    await emu?.close();
  });
  beforeEach(() => {
    emu.clearFaults();
    emu.resetStats();
  });

  const client = (extra: Partial<ManagedIdentityClientOptions> = {}) =>
    createManagedIdentityClient({
      transport,
      env: emu.managedIdentityEnvironment("imds"),
      ca: emu.caCertificatePem,
      // The emulator's mTLS host is 127.0.0.1, not an Entra ID host: the app names it itself.
      mtlsAuthorityHost: emu.mtlsAuthorityHost,
      clock,
      keyProvider,
      fileExists: () => false,
      ...extra,
    });

  it.each(["issueCredential", "mtlsToken"] as const)(
    "close() while %s is in flight: aborted, saying the client was closed",
    async (endpoint) => {
      const msi = client();
      emu.injectFault(endpoint, { hang: true });
      const pending = msi
        .acquireToken({ resource: emu.resourceUrl, mtlsProofOfPossession: true })
        .catch((e: unknown) => e);
      // The emulator holds the request (injected `hang`): the call is in flight.
      for (let turns = 0; emu.stats().requests[endpoint] === 0; turns++) {
        if (turns > 100_000) throw new Error(`no ${endpoint} request arrived`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      msi.close();
      const error = (await pending) as Error;
      expect(error).toMatchObject({ name: "CertboundError", code: "aborted" });
      expect(error.message).toMatch(/the client was closed \(close\(\) was called\)/);
      expect(error.message).not.toMatch(/AbortSignal/);
    },
  );

  it("gets an mtls_pop token bound to the IMDS-issued certificate and calls the resource with it (default key provider)", async () => {
    const msi = client({ keyProvider: undefined });
    try {
      const result = await msi.acquireToken({ resource: emu.resourceUrl, mtlsProofOfPossession: true });
      expect(result.tokenType).toBe("mtls_pop");
      expect(result.metadata.tokenSource).toBe("identity_provider");
      expect(result.tenantId).toBe(emu.tenantId);

      const binding = result.bindingCertificate;
      if (!binding) throw new Error("no binding certificate");
      const certificate = new X509Certificate(binding.certificatePem);
      expect(certificate.verify(new X509Certificate(emu.managedIdentityCaPem).publicKey)).toBe(true);
      expect(certificate.checkPrivateKey(binding.privateKey)).toBe(true);
      expect(binding.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
      expect(certificate.subject).toContain(`CN=${emu.systemAssignedIdentity.clientId}`);

      const claims = jwtPayload(result.accessToken);
      expect((claims.cnf as Record<string, string>)["x5t#S256"]).toBe(binding.x5tS256);
      expect(claims.aud).toBe(emu.resourceUrl);

      const response = await transport.send({
        method: "GET",
        url: `${emu.resourceUrl}/data`,
        headers: { authorization: `Bearer ${result.accessToken}` },
        clientIdentity: binding,
        ca: emu.caCertificatePem,
      });
      expect(response.status).toBe(200);
      expect(JSON.parse(response.body)).toMatchObject({
        tokenType: "mtls_pop",
        clientCertificateX5tS256: binding.x5tS256,
      });

      // The same token with another client certificate is refused: the binding is what counts.
      const stranger = createCertificateAuthority().issue({ commonName: "stranger" });
      const stolen = await transport.send({
        method: "GET",
        url: `${emu.resourceUrl}/data`,
        headers: { authorization: `Bearer ${result.accessToken}` },
        clientIdentity: stranger,
        ca: emu.caCertificatePem,
      });
      expect(stolen.status).toBe(401);
      expect(stolen.headers["www-authenticate"]).toContain("certificate_mismatch");

      const before = emu.stats().requests;
      const cached = await msi.acquireToken({
        resource: `${emu.resourceUrl}/.default`,
        mtlsProofOfPossession: true,
      });
      expect(cached.metadata.tokenSource).toBe("cache");
      expect(cached.accessToken).toBe(result.accessToken);
      expect(cached.bindingCertificate?.x5tS256).toBe(binding.x5tS256);
      const after = emu.stats().requests;
      expect([after.getPlatformMetadata, after.issueCredential, after.mtlsToken]).toEqual([
        before.getPlatformMetadata,
        before.issueCredential,
        before.mtlsToken,
      ]);
    } finally {
      msi.close();
    }
  });

  it("1,000 concurrent first calls make one mint and one token request; forceRefresh reuses the certificate", async () => {
    const msi = client();
    const results = await Promise.all(
      Array.from({ length: 1000 }, () =>
        msi.acquireToken({ resource: emu.resourceUrl, mtlsProofOfPossession: true }),
      ),
    );
    expect(new Set(results.map((r) => r.accessToken)).size).toBe(1);
    let counts = emu.stats().requests;
    expect([counts.getPlatformMetadata, counts.issueCredential, counts.mtlsToken]).toEqual([1, 1, 1]);

    const refreshed = await msi.acquireToken({
      resource: emu.resourceUrl,
      mtlsProofOfPossession: true,
      forceRefresh: true,
    });
    expect(refreshed.metadata.tokenSource).toBe("identity_provider");
    expect(refreshed.bindingCertificate?.x5tS256).toBe(results[0]?.bindingCertificate?.x5tS256);
    counts = emu.stats().requests;
    expect([counts.getPlatformMetadata, counts.issueCredential, counts.mtlsToken]).toEqual([2, 1, 2]);
    msi.close();
  });

  it("sends the user-assigned id as client_id / object_id / mi_res_id on v2 and msi_res_id on v1", async () => {
    const identity = emu.registerManagedIdentity();
    const cases = [
      ["clientId", identity.clientId, "client_id", "client_id"],
      ["objectId", identity.objectId, "object_id", "object_id"],
      ["resourceId", identity.resourceId, "mi_res_id", "msi_res_id"],
    ] as const;
    for (const [option, value, v2, v1] of cases) {
      emu.resetStats();
      const msi = client({ [option]: value });
      const pop = await msi.acquireToken({ resource: emu.resourceUrl, mtlsProofOfPossession: true });
      expect(jwtPayload(pop.accessToken)).toMatchObject({ appid: identity.clientId, oid: identity.objectId });
      const bearer = await msi.acquireToken({ resource: emu.resourceUrl });
      expect(jwtPayload(bearer.accessToken)).toMatchObject({ oid: identity.objectId });
      const recent = emu.stats().recent;
      const v2Calls = recent.filter(
        (r) => r.endpoint === "getPlatformMetadata" || r.endpoint === "issueCredential",
      );
      expect(v2Calls).toHaveLength(2);
      for (const call of v2Calls) expect(call.query).toEqual({ "cred-api-version": "2.0", [v2]: value });
      const v1Call = recent.find((r) => r.endpoint === "imdsToken");
      expect(v1Call?.query).toEqual({ "api-version": "2018-02-01", resource: emu.resourceUrl, [v1]: value });
      expect(recent.find((r) => r.endpoint === "mtlsToken")?.form?.client_id).toBe(identity.clientId);
      msi.close();
    }
  });

  it("the CSR it sends verifies with openssl and carries the DC/CN subject and the cuId attribute", async () => {
    const msi = client();
    await msi.acquireToken({ resource: emu.resourceUrl, mtlsProofOfPossession: true });
    msi.close();
    const sent = emu.stats().recent.find((r) => r.endpoint === "issueCredential");
    if (!sent) throw new Error("no issuecredential request was recorded");
    expect(sent.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(sent.headers.metadata).toBe("true");
    const csr = (sent.json as { csr: string }).csr;
    expect(csr).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const der = Buffer.from(csr, "base64");
    expect(opensslVerifies(der)).toBe(true);
    const { output: text } = opensslReq(der, ["-text", "-noout"]);
    expect(text).toContain(`Subject: DC = ${emu.tenantId}, CN = ${emu.systemAssignedIdentity.clientId}`);
    expect(text).toContain("1.3.6.1.4.1.311.90.2.10");
    expect(text).toMatch(/"vmId":"[^"]+"/);
    expect(text).toContain("rsassaPss");
    // The same check rejects a tampered request, so the verification above means something.
    der[der.length - 10] = (der[der.length - 10] as number) ^ 0xff;
    expect(opensslVerifies(der)).toBe(false);
  });

  // Follows MSAL.NET ImdsV2Tests.mTLSPop_TokenLeg_InvalidClient_ReMintsBindingAndRetriesOnceAsync; the
  // re-mint reads getplatformmetadata again (issue 13 item 10).
  it("re-mints once when the mTLS token endpoint answers invalid_client", async () => {
    const msi = client();
    emu.injectFault("mtlsToken", {
      status: 401,
      body: JSON.stringify({ error: "invalid_client", error_description: "AADSTS700027: injected" }),
    });
    const result = await msi.acquireToken({ resource: emu.resourceUrl, mtlsProofOfPossession: true });
    expect(result.tokenType).toBe("mtls_pop");
    const counts = emu.stats().requests;
    expect([counts.getPlatformMetadata, counts.issueCredential, counts.mtlsToken]).toEqual([2, 2, 2]);
    const presented = emu
      .stats()
      .recent.filter((r) => r.endpoint === "mtlsToken")
      .map((r) => r.clientCertificateX5tS256);
    expect(presented[1]).toBe(result.bindingCertificate?.x5tS256);
    expect(presented[0]).not.toBe(presented[1]);
    msi.close();
  });

  // Issue 13 item 10; follows MSAL.NET ImdsV2ManagedIdentitySource.IsSchanelFailure (connection reset).
  it("re-mints once when the mTLS token endpoint resets the connection (after its one retry)", async () => {
    const msi = client();
    emu.injectFault("mtlsToken", { reset: true, count: 2 });
    const result = await msi.acquireToken({ resource: emu.resourceUrl, mtlsProofOfPossession: true });
    expect(result.tokenType).toBe("mtls_pop");
    const counts = emu.stats().requests;
    expect([counts.getPlatformMetadata, counts.issueCredential, counts.mtlsToken]).toEqual([2, 2, 3]);
    msi.close();
  });

  it("a key provider with a key that is not RSA is refused before issuecredential", async () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const msi = client({ keyProvider: { getKey: async () => ec } });
    await expect(
      msi.acquireToken({ resource: emu.resourceUrl, mtlsProofOfPossession: true }),
    ).rejects.toMatchObject({
      code: "invalid_private_key",
    });
    expect(emu.stats().requests.issueCredential).toBe(0);
    msi.close();
  });

  it("reports IMDS v2 capability", async () => {
    const msi = client();
    await expect(msi.getManagedIdentitySource()).resolves.toEqual({
      source: "imds",
      mtlsProofOfPossession: true,
    });
    msi.close();
  });
});

describe.each(transports)("an IMDS v1-only VM (%s)", (_name, makeTransport) => {
  let emu: Emulator;
  let transport: HttpTransport;
  beforeAll(async () => {
    emu = await startEmulator({ imdsV2: false });
    transport = makeTransport();
  });
  afterAll(async () => {
    await transport?.close?.();
    await emu?.close();
  });

  it("PoP fails with mtls_pop_token_not_supported_in_imds_v1 after exactly the IMDS retry schedule; Bearer still works", async () => {
    const clock = createTestClock({ now: Date.now() });
    const msi = createManagedIdentityClient({
      transport,
      env: emu.managedIdentityEnvironment("imds"),
      clock,
      keyProvider: testKeyProvider(),
      fileExists: () => false,
    });
    const error = await msi
      .acquireToken({ resource: emu.resourceUrl, mtlsProofOfPossession: true })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "mtls_pop_token_not_supported_in_imds_v1", status: 404 });
    expect(clock.sleeps).toEqual([1000, 2000, 4000]);
    expect(emu.stats().requests.getPlatformMetadata).toBe(4);
    expect(emu.stats().requests.issueCredential).toBe(0);

    await expect(msi.getManagedIdentitySource()).resolves.toEqual({
      source: "imds",
      mtlsProofOfPossession: false,
    });
    // Never a silent downgrade: the Bearer token comes only when asked for.
    const bearer = await msi.acquireToken({ resource: emu.resourceUrl });
    expect(bearer.tokenType).toBe("Bearer");
    msi.close();
  });
});
