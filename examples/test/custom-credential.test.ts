import { createCertificateAuthority } from "@certbound/core/credential-kit";
import { type Emulator, startEmulator } from "@certbound/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allowListCredential,
  runCustomCredentialExample,
  runPluggedCredential,
} from "../src/custom-credential";

it("custom-credential: 101 acquisitions, one issuer call, the last one from the cache", async () => {
  const { results, issued } = await runCustomCredentialExample();
  expect(issued).toBe(1);
  expect(results).toHaveLength(101);
  expect(new Set(results.map((r) => r.accessToken)).size).toBe(1);
  expect(results.at(-1)?.metadata.tokenSource).toBe("cache");
  expect(results[0]?.metadata.tokenSource).toBe("identity_provider");
});

describe("a hand-written credential against the emulator", () => {
  let emu: Emulator;
  const appCert = createCertificateAuthority({ commonName: "plugged CA" }).issue({
    commonName: "plugged-app",
    keyType: "rsa",
  });
  const clientId = "5b6c7d8e-9f00-4a1b-8c2d-3e4f5a6b7c8d";

  beforeAll(async () => {
    emu = await startEmulator();
    emu.registerConfidentialClient({ clientId, certificatePem: appCert.certificatePem });
  });
  afterAll(async () => {
    await emu?.close();
  });

  it("passes through MtlsPopTokenAcquirer, ResourceCaller and createTokenManager, bound to the app's certificate", async () => {
    const { checked, direct, managed, served } = await runPluggedCredential({
      clientId,
      tenantId: emu.tenantId,
      certificatePem: appCert.certificatePem,
      privateKeyPem: appCert.keyPem,
      scope: `${emu.resourceUrl}/.default`,
      resourceUrl: `${emu.resourceUrl}/orders`,
      mtlsAuthorityHost: emu.mtlsAuthorityHost,
      ca: emu.caCertificatePem,
    });
    expect(checked.tokenType).toBe("mtls_pop");
    expect(checked.bindingCertificate?.x5tS256).toBe(appCert.x5tS256);
    for (const response of [direct, managed]) {
      expect(response.status).toBe(200);
      const echo = JSON.parse(response.body) as { clientCertificateX5tS256: string; tokenType: string };
      expect(echo).toMatchObject({ clientCertificateX5tS256: appCert.x5tS256, tokenType: "mtls_pop" });
    }
    // Acquirer, caller and manager each asked the hand-written credential once; the client's own
    // cache answered after the first network acquisition.
    expect(served).toBe(3);
    expect(emu.stats().requests.mtlsToken).toBe(1);
  });

  it("keeps its own rules: a scope off its list never reaches the inner credential", async () => {
    let asked = 0;
    const { credential } = allowListCredential(
      {
        getToken: async () => {
          asked++;
          throw new Error("not reached");
        },
      },
      ["api://orders/.default"],
    );
    await expect(credential.getToken(["api://payroll/.default"])).rejects.toMatchObject({
      code: "invalid_options",
    });
    expect(asked).toBe(0);
  });
});
