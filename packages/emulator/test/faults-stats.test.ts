import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { existsSync } from "node:fs";
import { createCertificateAuthority } from "@certbound/core/credential-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../src/index";
import { clientAssertion, formPost, send } from "./helpers";

let emu: Emulator;
let signingKey: KeyObject;
const META = { Metadata: "true" };

beforeAll(async () => {
  signingKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  emu = await startEmulator({ signingKey });
});
afterAll(async () => {
  await emu?.close();
});

const imdsToken = (target = emu) =>
  send(`${target.imdsEndpoint}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://x`, {
    headers: META,
  });

/** Resolves once the emulator has recorded `count` requests to `endpoint` (no timers: yields to I/O). */
async function recorded(target: Emulator, endpoint: string, count: number): Promise<void> {
  while (target.stats().requests[endpoint as "compute"] < count) await new Promise((r) => setImmediate(r));
}

describe("fault injection", () => {
  it("answers the next request with the fault, shaped like the endpoint's errors, then recovers", async () => {
    emu.injectFault("imdsToken", { status: 500 });
    const faulted = await imdsToken();
    expect(faulted.status).toBe(500);
    expect(faulted.json).toMatchObject({ error: "server_error", error_description: expect.any(String) });
    expect(faulted.headers.server).toBe("IMDS/150.870.65.1854");
    expect((await imdsToken()).status).toBe(200);
  });

  it("serves a fault `count` times, with headers and raw bodies", async () => {
    emu.injectFault("imdsToken", { status: 429, count: 2, headers: { "retry-after": "3" } });
    for (let i = 0; i < 2; i++) {
      const r = await imdsToken();
      expect(r.status).toBe(429);
      expect(r.headers["retry-after"]).toBe("3");
    }
    expect((await imdsToken()).status).toBe(200);

    emu.injectFault("imdsToken", { body: "{not json" });
    const malformed = await imdsToken();
    expect(malformed.status).toBe(500);
    expect(malformed.body).toBe("{not json");

    emu.injectFault("imdsToken", { status: 200, body: "x".repeat(3 * 1024 * 1024) });
    expect((await imdsToken()).body.length).toBe(3 * 1024 * 1024);
  });

  it("shapes Entra faults like Entra errors", async () => {
    emu.injectFault("mtlsToken", { status: 503, headers: { "retry-after": "10" } });
    const app = createCertificateAuthority().issue({ commonName: "fault-app" });
    const r = await send(
      `${emu.mtlsAuthorityHost}/${emu.tenantId}/oauth2/v2.0/token`,
      formPost({}, { ca: emu.caCertificatePem, cert: app.certificatePem, key: app.keyPem }),
    );
    expect(r.status).toBe(503);
    expect(r.headers["retry-after"]).toBe("10");
    expect(r.json).toMatchObject({ error: "server_error", error_codes: [50000] });
    expect(r.json.error_description).toMatch(/^AADSTS50000: /);
  });

  it("adds headers to the normal answer when the fault has no status or body", async () => {
    emu.injectFault("compute", { headers: { "x-injected": "yes" } });
    const r = await send(`${emu.imdsEndpoint}/metadata/instance/compute?api-version=2021-02-01`, {
      headers: META,
    });
    expect(r.status).toBe(200);
    expect(r.json.location).toBe("westus3");
    expect(r.headers["x-injected"]).toBe("yes");
  });

  it("delays the normal answer", async () => {
    emu.injectFault("compute", { delayMs: 1 });
    const r = await send(`${emu.imdsEndpoint}/metadata/instance/compute?api-version=2021-02-01`, {
      headers: META,
    });
    expect(r.status).toBe(200);
  });

  it("resets the connection", async () => {
    emu.injectFault("getPlatformMetadata", { reset: true });
    await expect(
      send(`${emu.imdsEndpoint}/metadata/identity/getplatformmetadata?cred-api-version=2.0`, {
        headers: META,
      }),
    ).rejects.toThrow(/socket hang up|ECONNRESET/);
    emu.injectFault("resource", { reset: true });
    await expect(send(`${emu.resourceUrl}/`, { ca: emu.caCertificatePem })).rejects.toThrow(
      /socket hang up|ECONNRESET/,
    );
  });

  it("clears faults and validates them", async () => {
    emu.injectFault("imdsToken", { status: 500, count: 5 });
    emu.clearFaults();
    expect((await imdsToken()).status).toBe(200);
    expect(() => emu.injectFault("imdsToken", { status: 42 })).toThrow(/status/);
    expect(() => emu.injectFault("imdsToken", { count: 0 })).toThrow(/count/);
    expect(() => emu.injectFault("imdsToken", { hang: true, reset: true })).toThrow(/hang/);
  });

  it("releases hung and delayed requests on close, and close never hangs", async () => {
    const target = await startEmulator({ signingKey, arcTokenFolder: "temporary" });
    target.injectFault("imdsToken", { hang: true });
    target.injectFault("compute", { delayMs: 3_600_000 });
    target.injectFault("mtlsToken", { hang: true });
    const hung = imdsToken(target).then(
      () => "answered",
      () => "released",
    );
    const delayed = send(`${target.imdsEndpoint}/metadata/instance/compute?api-version=2021-02-01`, {
      headers: META,
    }).then(
      () => "answered",
      () => "released",
    );
    const hungTls = send(`${target.mtlsAuthorityHost}/${target.tenantId}/oauth2/v2.0/token`, {
      ...formPost({}),
      ca: target.caCertificatePem,
    }).then(
      () => "answered",
      () => "released",
    );
    await recorded(target, "imdsToken", 1);
    await recorded(target, "compute", 1);
    await recorded(target, "mtlsToken", 1);
    const started = performance.now();
    await target.close();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await Promise.all([hung, delayed, hungTls])).toEqual(["released", "released", "released"]);
    await expect(imdsToken(target)).rejects.toThrow(/ECONNREFUSED/);
    expect(existsSync(target.arcTokenFolder)).toBe(false);
    await target.close(); // idempotent
  });
});

describe("statistics", () => {
  it("counts requests per endpoint and handshakes per server, and records redacted requests", async () => {
    const target = await startEmulator({ signingKey });
    try {
      const rsaApp = createCertificateAuthority().issue({ commonName: "stats-app", keyType: "rsa" });
      target.registerConfidentialClient({ clientId: "stats-app", certificatePem: rsaApp.certificatePem });
      const tokenUrl = `${target.authorityHost}/${target.tenantId}/oauth2/v2.0/token`;
      const assertion = clientAssertion({
        clientId: "stats-app",
        audience: tokenUrl,
        key: rsaApp.privateKey,
        certificate: rsaApp.certificate,
      });
      const bearer = await send(
        tokenUrl,
        formPost(
          {
            client_id: "stats-app",
            grant_type: "client_credentials",
            scope: "https://x/.default",
            client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            client_assertion: assertion,
          },
          { ca: target.caCertificatePem },
        ),
      );
      expect(bearer.status, bearer.body).toBe(200);
      const pop = await send(
        `${target.mtlsAuthorityHost}/${target.tenantId}/oauth2/v2.0/token`,
        formPost(
          {
            client_id: "stats-app",
            grant_type: "client_credentials",
            scope: "https://x/.default",
            token_type: "mtls_pop",
          },
          { ca: target.caCertificatePem, cert: rsaApp.certificatePem, key: rsaApp.keyPem },
        ),
      );
      expect(pop.status).toBe(200);
      const appService = target.managedIdentityEnvironment("appService");
      await send(`${appService.IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=https://x`, {
        headers: { "X-IDENTITY-HEADER": appService.IDENTITY_HEADER as string },
      });
      const ml = target.managedIdentityEnvironment("machineLearning");
      await send(`${ml.MSI_ENDPOINT}?api-version=2017-09-01&resource=https://x`, {
        headers: { secret: ml.MSI_SECRET as string, Metadata: "true" },
      });
      await send(`${target.resourceUrl}/r`, {
        headers: { authorization: `Bearer ${pop.json.access_token}` },
        ca: target.caCertificatePem,
        cert: rsaApp.certificatePem,
        key: rsaApp.keyPem,
      });
      await send(`${target.imdsEndpoint}/metadata/identity/issuecredential?cred-api-version=2.0`, {
        method: "POST",
        headers: { ...META, "content-type": "application/json" },
        body: JSON.stringify({ csr: "AAAA", attestation_token: "secret-attestation" }),
      });
      await send(`${target.imdsEndpoint}/not/an/endpoint`, { headers: META });

      const stats = target.stats();
      expect(stats.requests).toMatchObject({
        token: 1,
        mtlsToken: 1,
        appService: 1,
        machineLearning: 1,
        resource: 1,
        issueCredential: 1,
        imdsToken: 0,
      });
      expect(Object.keys(stats.requests)).toHaveLength(16);
      expect(stats.handshakes).toEqual({ authority: 1, mtls: 1, resource: 1, serviceFabric: 0 });
      const [token, mtls, as, mlReq, resource, issue] = stats.recent;
      expect(stats.recent).toHaveLength(6);
      expect(token?.form?.client_assertion).toBe("<redacted>");
      expect(token?.form?.client_id).toBe("stats-app");
      expect(mtls?.clientCertificateX5tS256).toBe(rsaApp.x5tS256);
      expect(as?.headers["x-identity-header"]).toBe("<redacted>");
      expect(as?.query).toMatchObject({ "api-version": "2019-08-01", resource: "https://x" });
      expect(mlReq?.headers.secret).toBe("<redacted>");
      expect(resource?.headers.authorization).toBe("<redacted>");
      expect(issue?.json).toEqual({ csr: "AAAA", attestation_token: "<redacted>" });
      const all = JSON.stringify(stats);
      for (const secret of [
        assertion,
        String(pop.json.access_token),
        appService.IDENTITY_HEADER,
        ml.MSI_SECRET,
      ]) {
        expect(all).not.toContain(secret);
      }
      // A snapshot is a copy.
      stats.recent.length = 0;
      expect(target.stats().recent).toHaveLength(6);

      target.resetStats();
      expect(target.stats()).toEqual({
        requests: Object.fromEntries(Object.keys(stats.requests).map((k) => [k, 0])),
        handshakes: { authority: 0, mtls: 0, resource: 0, serviceFabric: 0 },
        recent: [],
      });
    } finally {
      await target.close();
    }
  });

  it("keeps the last 200 requests, oldest first", async () => {
    emu.resetStats();
    for (let i = 0; i < 205; i++) {
      await send(`${emu.imdsEndpoint}/metadata/instance/compute?api-version=2021-02-01&i=${i}`, {
        headers: META,
      });
    }
    const { recent, requests } = emu.stats();
    expect(requests.compute).toBe(205);
    expect(recent).toHaveLength(200);
    expect(recent[0]?.query.i).toBe("5");
    expect(recent[199]?.query.i).toBe("204");
  });
});

describe("lifecycle", () => {
  it("leaves no servers or timers behind", async () => {
    const count = () =>
      process
        .getActiveResourcesInfo()
        .filter((r) => r === "TCPServerWrap" || r === "Timeout" || r === "TCPSocketWrap").length;
    await new Promise((r) => setImmediate(r));
    const before = count();
    const target = await startEmulator({ signingKey });
    await imdsToken(target);
    expect(count()).toBeGreaterThan(before);
    await target.close();
    // Closed sockets release their handles on the next turn of the loop.
    await new Promise((r) => setImmediate(r));
    // Earlier tests' client sockets may finish closing meanwhile, so the count can only drop.
    expect(count()).toBeLessThanOrEqual(before);
  });

  it("refuses invalid options", async () => {
    await expect(startEmulator({ tenantId: "common" })).rejects.toThrow(/tenantId/);
    await expect(startEmulator({ tokenLifetimeSeconds: -1 })).rejects.toThrow(/tokenLifetimeSeconds/);
    await expect(startEmulator({ ports: { imds: 70000 } })).rejects.toThrow(/ports.imds/);
    const busy = await startEmulator({ signingKey });
    try {
      const port = Number(new URL(busy.imdsEndpoint).port);
      await expect(startEmulator({ signingKey, ports: { imds: port } })).rejects.toThrow(/could not listen/);
    } finally {
      await busy.close();
    }
  });

  it("refuses bad registrations", () => {
    expect(() => emu.registerConfidentialClient({ clientId: "", certificatePem: "x" })).toThrow(/clientId/);
    expect(() => emu.registerConfidentialClient({ clientId: "a", certificatePem: "not pem" })).toThrow(
      /CERTIFICATE/,
    );
    expect(() =>
      emu.registerConfidentialClient({
        clientId: emu.systemAssignedIdentity.clientId,
        certificatePem: emu.caCertificatePem,
      }),
    ).toThrow(/managed identity/);
    const uami = emu.registerManagedIdentity();
    expect(() => emu.registerManagedIdentity({ clientId: uami.clientId })).toThrow(/already registered/);
  });
});
