// Issue 13 item 14, end to end: the emulator requires attestation as real IMDS does today for keys
// that are not attested. Without an attestation provider the client fails with the dedicated code;
// with one that asks the emulator's attestation service, it gets the certificate and the token.
import type { HttpTransport } from "@certbound/core";
import { type Emulator, startEmulator } from "@certbound/emulator";
import { createTestClock, type TestClock } from "@certbound/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AttestationProvider } from "../src/attestation";
import { createManagedIdentityClient, type ManagedIdentityClientOptions } from "../src/index";
import { testKeyProvider } from "./helpers/keys";
import { jwtPayload, transports } from "./helpers/transports";

describe.each(transports)("IMDS v2 that requires attestation (%s)", (_name, makeTransport) => {
  let clock: TestClock;
  let emu: Emulator;
  let transport: HttpTransport;

  beforeAll(async () => {
    clock = createTestClock({ now: Date.now() });
    emu = await startEmulator({ requireAttestation: true, now: () => clock.now() });
    transport = makeTransport();
  });
  afterAll(async () => {
    await transport?.close?.();
    await emu?.close();
  });

  const client = (extra: Partial<ManagedIdentityClientOptions> = {}) =>
    createManagedIdentityClient({
      transport,
      env: emu.managedIdentityEnvironment("imds"),
      ca: emu.caCertificatePem,
      mtlsAuthorityHost: emu.mtlsAuthorityHost,
      clock,
      keyProvider: testKeyProvider(),
      fileExists: () => false,
      ...extra,
    });

  // The app's attestation provider: here it asks the emulated attestation service over the same
  // transport; on a VM it would ask Microsoft Azure Attestation for a hardware-backed key.
  const emulatorAttestation: AttestationProvider = async ({ attestationEndpoint, keyPair, signal }) => {
    const response = await transport.send({
      method: "POST",
      url: `${attestationEndpoint}/attest`,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        publicKey: keyPair.publicKey.export({ type: "spki", format: "der" }).toString("base64"),
      }),
      proxy: "never",
      signal,
    });
    if (response.status !== 200) throw new Error(`attestation answered ${response.status}`);
    return (JSON.parse(response.body) as { token: string }).token;
  };

  it("without an attestation provider: managed_identity_attestation_required, nothing cached", async () => {
    emu.resetStats();
    const msi = client();
    const error = await msi
      .acquireToken({ resource: emu.resourceUrl, mtlsProofOfPossession: true })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "managed_identity_attestation_required",
      status: 400,
      errorCode: "invalid_request",
      errorDescription: "Attestation Token is missing / empty",
    });
    expect((error as Error).message).toMatch(/Bearer/);
    expect((error as Error).message).toMatch(/attestationProvider/);
    const counts = emu.stats().requests;
    expect([counts.getPlatformMetadata, counts.issueCredential, counts.mtlsToken]).toEqual([1, 1, 0]);
    // The way out the message names works: a Bearer token.
    await expect(msi.acquireToken({ resource: emu.resourceUrl })).resolves.toMatchObject({
      tokenType: "Bearer",
    });
    msi.close();
  });

  it("with an attestation provider: the certificate is issued and the PoP token bound to it", async () => {
    emu.resetStats();
    const msi = client({ attestationProvider: emulatorAttestation });
    const result = await msi.acquireToken({ resource: emu.resourceUrl, mtlsProofOfPossession: true });
    expect(result.tokenType).toBe("mtls_pop");
    const claims = jwtPayload(result.accessToken);
    expect((claims.cnf as Record<string, string>)["x5t#S256"]).toBe(result.bindingCertificate?.x5tS256);
    const counts = emu.stats().requests;
    expect([counts.attestation, counts.issueCredential, counts.mtlsToken]).toEqual([1, 1, 1]);
    const response = await transport.send({
      method: "GET",
      url: `${emu.resourceUrl}/data`,
      headers: { authorization: `Bearer ${result.accessToken}` },
      clientIdentity: result.bindingCertificate,
      ca: emu.caCertificatePem,
    });
    expect(response.status).toBe(200);
    msi.close();
  });

  it("a provider whose token attests another key is refused by IMDS (as a request failure)", async () => {
    const { publicKey } = await import("node:crypto").then((c) =>
      c.generateKeyPairSync("rsa", { modulusLength: 2048 }),
    );
    const msi = client({
      attestationProvider: (request) =>
        emulatorAttestation({ ...request, keyPair: { ...request.keyPair, publicKey } }),
    });
    await expect(
      msi.acquireToken({ resource: emu.resourceUrl, mtlsProofOfPossession: true }),
    ).rejects.toMatchObject({
      code: "managed_identity_request_failed",
      status: 400,
      errorDescription: expect.stringMatching(/attests a different key/),
    });
    msi.close();
  });
});
