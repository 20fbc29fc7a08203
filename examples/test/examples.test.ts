// Every example runs here against the emulator, so a broken flow fails CI.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCertificateAuthority, tokenBindingThumbprint } from "@certbound/core/credential-kit";
import { type Emulator, startEmulator } from "@certbound/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAxiosFlow } from "../src/axios";
import { runVanillaCert } from "../src/vanilla-cert";
import { msiQuickStart, VanillaMsiMtlsPop } from "../src/vanilla-msi";

let emu: Emulator;
const appCa = createCertificateAuthority({ commonName: "examples app CA" });

beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu?.close();
});

type Echo = { clientCertificateX5tS256: string; tokenType: string };

describe("vanilla-msi", () => {
  it("msiQuickStart gets a PoP token and calls the resource with its binding certificate", async () => {
    const { result, response } = await msiQuickStart(emu.resourceUrl, `${emu.resourceUrl}/data`, {
      imdsEndpoint: emu.imdsEndpoint,
      mtlsAuthorityHost: emu.mtlsAuthorityHost,
      ca: emu.caCertificatePem,
    });
    expect(result.tokenType).toBe("mtls_pop");
    expect(response.status).toBe(200);
    expect((JSON.parse(response.body) as Echo).clientCertificateX5tS256).toBe(
      result.bindingCertificate?.x5tS256,
    );
  });

  it("VanillaMsiMtlsPop.getResourceData works for a user-assigned identity", async () => {
    const uami = emu.registerManagedIdentity();
    const vanilla = new VanillaMsiMtlsPop({
      userAssignedClientId: uami.clientId,
      imdsEndpoint: emu.imdsEndpoint,
      mtlsAuthorityHost: emu.mtlsAuthorityHost,
      ca: emu.caCertificatePem,
    });
    try {
      const body = JSON.parse(
        await vanilla.getResourceData(`${emu.resourceUrl}/.default`, `${emu.resourceUrl}/x`),
      ) as {
        appId: string;
        tokenType: string;
      };
      expect(body.tokenType).toBe("mtls_pop");
      expect(body.appId).toBe(uami.clientId);
      expect(
        emu
          .stats()
          .recent.some((r) => r.endpoint === "issueCredential" && r.query.client_id === uami.clientId),
      ).toBe(true);
    } finally {
      await vanilla.close();
    }
  });
});

describe("vanilla-cert", () => {
  it("gets a PoP token bound to the app certificate, then a cache hit, and calls the resource", async () => {
    const cert = appCa.issue({ commonName: "vanilla-cert" });
    const clientId = "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5";
    emu.registerConfidentialClient({ clientId, certificatePem: cert.certificatePem });
    const before = emu.stats().requests.mtlsToken;
    const { first, second, resourceAnswer } = await runVanillaCert({
      clientId,
      tenantId: emu.tenantId,
      certificatePem: cert.certificatePem,
      privateKeyPem: cert.keyPem,
      scope: `${emu.resourceUrl}/.default`,
      resourceUrl: `${emu.resourceUrl}/data`,
      mtlsAuthorityHost: emu.mtlsAuthorityHost,
      ca: emu.caCertificatePem,
    });
    expect(first.bindingCertificate?.x5tS256).toBe(cert.x5tS256);
    expect(tokenBindingThumbprint(first.accessToken)).toBe(cert.x5tS256);
    expect(second.metadata.tokenSource).toBe("cache");
    expect(emu.stats().requests.mtlsToken - before).toBe(1);
    expect((JSON.parse(resourceAnswer) as Echo).clientCertificateX5tS256).toBe(cert.x5tS256);
  });
});

describe("axios", () => {
  it("runs the PoP flow with a PFX certificate on the axios transport", async () => {
    const cert = appCa.issue({ commonName: "axios-app", keyType: "rsa" });
    const dir = mkdtempSync(join(tmpdir(), "certbound-example-"));
    try {
      writeFileSync(join(dir, "cert.pem"), cert.certificatePem);
      writeFileSync(join(dir, "key.pem"), cert.keyPem, { mode: 0o600 });
      execFileSync("openssl", [
        "pkcs12",
        "-export",
        "-in",
        join(dir, "cert.pem"),
        "-inkey",
        join(dir, "key.pem"),
        "-out",
        join(dir, "app.pfx"),
        "-passout",
        "pass:example-passphrase",
      ]);
      const clientId = "1d2e3f4a-5b6c-4d7e-8f90-a1b2c3d4e5f6";
      emu.registerConfidentialClient({ clientId, certificatePem: cert.certificatePem });
      const { result, response } = await runAxiosFlow({
        clientId,
        tenantId: emu.tenantId,
        pfx: readFileSync(join(dir, "app.pfx")),
        passphrase: "example-passphrase",
        scope: `${emu.resourceUrl}/.default`,
        resourceUrl: `${emu.resourceUrl}/orders`,
        mtlsAuthorityHost: emu.mtlsAuthorityHost,
        ca: emu.caCertificatePem,
      });
      expect(result.bindingCertificate?.x5tS256).toBe(cert.x5tS256);
      expect(response.status).toBe(200);
      expect((JSON.parse(response.body) as Echo).clientCertificateX5tS256).toBe(cert.x5tS256);
      const last = emu
        .stats()
        .recent.filter((r) => r.endpoint === "resource")
        .at(-1);
      expect(last?.headers["x-app"]).toBe("orders-service");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
