// oauth4webapi 3.8.8 (RFC 8705 certificate-bound tokens) against the emulator's mTLS Entra host
// and its protected resource, in its own process.
import { createHash } from "node:crypto";
import { type Emulator, startEmulator } from "@certbound/emulator";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { appCertificate, scratch } from "./support/fixture";
import { killClients, runClient } from "./support/run-client";
import { verifyWithDiscovery } from "./support/verify-token";

const APP = "8b0e5d1a-2c3f-4e6a-9b7c-0d1e2f3a4b5c";
let emu: Emulator;
let files: ReturnType<typeof scratch>;

beforeAll(async () => {
  emu = await startEmulator({ arcTokenFolder: "temporary" });
  files = scratch();
});
afterEach(killClients);
afterAll(async () => {
  killClients();
  await emu?.close();
  files?.cleanup();
});

interface Call {
  status?: number;
  body?: Record<string, unknown>;
  error?: { name: string; message: string };
  wwwAuthenticate?: string;
}
interface MtlsOutcome {
  tokenEndpoint: string;
  tokenType: string;
  accessToken: string;
  sameCertificate: Call;
  otherCertificate: Call;
}

describe("oauth4webapi with a certificate-bound token", () => {
  it("gets a token at the mtls_endpoint_aliases token endpoint; the resource takes it only with the same certificate", async () => {
    const app = appCertificate("oauth4webapi-app");
    const stranger = appCertificate("stranger");
    emu.registerConfidentialClient({ clientId: APP, certificatePem: app.certificatePem });
    const outcome = await runClient<MtlsOutcome>("oauth4webapi-mtls", {
      input: {
        issuer: `${emu.authorityHost}/${emu.tenantId}/v2.0`,
        clientId: APP,
        scope: `${emu.resourceUrl}/.default`,
        resourceUrl: emu.resourceUrl,
        certificatePath: files.write("app.pem", app.certificatePem),
        keyPath: files.write("app.key", app.keyPem),
        otherCertificatePath: files.write("stranger.pem", stranger.certificatePem),
        otherKeyPath: files.write("stranger.key", stranger.keyPem),
      },
      env: { NODE_EXTRA_CA_CERTS: files.write("ca.pem", emu.caCertificatePem) },
    });
    expect(outcome.ok, `${JSON.stringify(outcome.error)} ${outcome.stderr}`).toBe(true);
    const r = outcome.results as MtlsOutcome;
    expect(r.tokenEndpoint).toBe(`${emu.mtlsAuthorityHost}/${emu.tenantId}/oauth2/v2.0/token`);
    expect(r.tokenType).toBe("mtls_pop");
    const claims = await verifyWithDiscovery(emu, r.accessToken, emu.resourceUrl);
    expect(claims).toMatchObject({ appid: APP, cnf: { "x5t#S256": app.x5tS256 } });
    expect(app.x5tS256).toBe(createHash("sha256").update(app.certificate.raw).digest("base64url"));

    expect(r.sameCertificate).toMatchObject({
      status: 200,
      body: { tokenType: "mtls_pop", clientCertificateX5tS256: app.x5tS256, appId: APP },
    });
    // Another certificate: 401 with an RFC 6750 challenge, which oauth4webapi surfaces as an error.
    expect(r.otherCertificate.status).toBe(401);
    expect(r.otherCertificate.error?.name).toBe("WWWAuthenticateChallengeError");
    expect(r.otherCertificate.wwwAuthenticate).toMatch(/error="invalid_token"/);
    expect(r.otherCertificate.wwwAuthenticate).toMatch(/certificate_mismatch/);

    const token = emu.stats().recent.filter((q) => q.endpoint === "mtlsToken");
    expect(token).toHaveLength(1);
    expect(token[0]?.clientCertificateX5tS256).toBe(app.x5tS256);
    expect(Object.keys(token[0]?.form ?? {}).sort()).toEqual([
      "client_id",
      "grant_type",
      "scope",
      "token_type",
    ]);
  });
});
