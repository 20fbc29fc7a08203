// @azure/msal-node 7.2.3 ConfidentialClientApplication and @azure/identity 4.14.1
// ClientCertificateCredential against the emulator's regular Entra host, each in its own process.
import type { IssuedCertificate } from "@certbound/core/credential-kit";
import { type Emulator, startEmulator } from "@certbound/emulator";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { appCertificate, scratch } from "./support/fixture";
import { type CaseResult, killClients, runClient } from "./support/run-client";
import { verifyWithDiscovery } from "./support/verify-token";

const APP = "3f9a1c52-7d1e-4b0a-9c55-1a2b3c4d5e6f";
const OTHER_RESOURCE = "https://graph.interop.example";
let emu: Emulator;
let app: IssuedCertificate;
let files: ReturnType<typeof scratch>;
let caFile: string;

beforeAll(async () => {
  emu = await startEmulator();
  app = appCertificate("interop-app");
  emu.registerConfidentialClient({ clientId: APP, certificatePem: app.certificatePem });
  files = scratch();
  caFile = files.write("emulator-ca.pem", emu.caCertificatePem);
});
afterEach(killClients);
afterAll(async () => {
  killClients();
  await emu?.close();
  files?.cleanup();
});

const scopes = () => [`${emu.resourceUrl}/.default`, `${OTHER_RESOURCE}/.default`];
const audiences = () => [emu.resourceUrl, OTHER_RESOURCE];

async function msalConfidential(target: Emulator[], trust: string) {
  const certificatePath = files.write("app.pem", app.certificatePem);
  const keyPath = files.write("app.key", app.keyPem);
  return runClient("msal-confidential", {
    input: {
      authorities: target.map((e) => ({ authority: `${e.authorityHost}/${e.tenantId}`, clientId: APP })),
      certificatePath,
      keyPath,
      scopes: scopes(),
    },
    env: { NODE_EXTRA_CA_CERTS: trust },
  });
}

const tokens = (results: CaseResult[] | undefined) => {
  for (const r of results ?? []) expect(r.ok, JSON.stringify(r.error)).toBe(true);
  return (results ?? []).map((r) => r.accessToken as string);
};

describe("@azure/msal-node ConfidentialClientApplication with a certificate", () => {
  it("gets tokens for two resources in a row (one reused client assertion), verified against the JWKS", async () => {
    emu.resetStats();
    const outcome = await msalConfidential([emu], caFile);
    expect(outcome.ok, outcome.stderr).toBe(true);
    const [first, second] = tokens(outcome.results);
    const claims = [
      await verifyWithDiscovery(emu, first as string, audiences()[0] as string),
      await verifyWithDiscovery(emu, second as string, audiences()[1] as string),
    ];
    for (const c of claims) expect(c).toMatchObject({ appid: APP, tid: emu.tenantId });
    const { requests, recent } = emu.stats();
    expect(requests.token).toBe(2);
    // It found the tenant through discovery (no instance discovery: knownAuthorities).
    expect(requests.openidConfiguration).toBeGreaterThanOrEqual(1);
    expect(requests.instanceDiscovery).toBe(0);
    const forms = recent.filter((q) => q.endpoint === "token").map((q) => q.form);
    expect(forms.map((f) => f?.client_assertion_type)).toEqual([
      "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    ]);
  });

  it("reuses its assertion: the emulator's opt-in replay check refuses its second request", async () => {
    // The case Entra does not refuse, and why replay protection is off by default.
    const strict = await startEmulator({ rejectReplayedAssertions: true, arcTokenFolder: "temporary" });
    try {
      strict.registerConfidentialClient({ clientId: APP, certificatePem: app.certificatePem });
      const outcome = await msalConfidential([strict], files.write("strict-ca.pem", strict.caCertificatePem));
      const [first, second] = outcome.results ?? [];
      expect(first?.ok, JSON.stringify(first?.error)).toBe(true);
      expect(second?.ok).toBe(false);
      expect(second?.error?.message).toMatch(/already used/);
    } finally {
      await strict.close();
    }
  });

  it("uses two emulators from one process that trusts both CAs (NODE_EXTRA_CA_CERTS holds both)", async () => {
    const other = await startEmulator({ arcTokenFolder: "temporary" });
    try {
      other.registerConfidentialClient({ clientId: APP, certificatePem: app.certificatePem });
      const both = files.write("both-ca.pem", `${emu.caCertificatePem}${other.caCertificatePem}`);
      const outcome = await msalConfidential([emu, other], both);
      expect(outcome.ok, outcome.stderr).toBe(true);
      const [a1, a2, b1, b2] = tokens(outcome.results);
      await verifyWithDiscovery(emu, a1 as string, audiences()[0] as string);
      await verifyWithDiscovery(emu, a2 as string, audiences()[1] as string);
      await verifyWithDiscovery(other, b1 as string, audiences()[0] as string);
      await verifyWithDiscovery(other, b2 as string, audiences()[1] as string);
      // Each emulator's token is its own: the other's keys do not verify it.
      await expect(verifyWithDiscovery(other, a1 as string, audiences()[0] as string)).rejects.toThrow();
    } finally {
      await other.close();
    }
  });
});

describe("@azure/identity ClientCertificateCredential", () => {
  it("gets tokens for two resources in a row, verified against the JWKS", async () => {
    emu.resetStats();
    const outcome = await runClient("identity-client-certificate", {
      input: {
        tenantId: emu.tenantId,
        clientId: APP,
        certificatePath: files.write("app-with-key.pem", `${app.certificatePem}${app.keyPem}`),
        authorityHost: emu.authorityHost,
        scopes: scopes(),
      },
      env: { NODE_EXTRA_CA_CERTS: caFile },
    });
    expect(outcome.ok, outcome.stderr).toBe(true);
    const [first, second] = tokens(outcome.results);
    expect(await verifyWithDiscovery(emu, first as string, audiences()[0] as string)).toMatchObject({
      appid: APP,
    });
    expect(await verifyWithDiscovery(emu, second as string, audiences()[1] as string)).toMatchObject({
      appid: APP,
    });
    expect(emu.stats().requests.token).toBe(2);
  });
});
