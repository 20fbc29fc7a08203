// Bearer tokens from each managed-identity source of the emulator, with each real transport.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HttpTransport } from "@certbound/core";
import { type Emulator, startEmulator } from "@certbound/emulator";
import { createTestClock } from "@certbound/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createManagedIdentityClient, type ManagedIdentitySourceName } from "../src/index";
import { jwtPayload, transports } from "./helpers/transports";

type Expectation = {
  endpoint: string;
  method: string;
  apiVersion: string | undefined;
  headers: string[];
};

const expected: Record<ManagedIdentitySourceName, Expectation> = {
  imds: { endpoint: "imdsToken", method: "GET", apiVersion: "2018-02-01", headers: ["metadata"] },
  appService: {
    endpoint: "appService",
    method: "GET",
    apiVersion: "2019-08-01",
    headers: ["x-identity-header"],
  },
  serviceFabric: { endpoint: "serviceFabric", method: "GET", apiVersion: "2020-05-01", headers: ["secret"] },
  azureArc: {
    endpoint: "azureArc",
    method: "GET",
    apiVersion: "2020-06-01",
    headers: ["metadata", "authorization"],
  },
  cloudShell: { endpoint: "cloudShell", method: "POST", apiVersion: undefined, headers: ["metadata"] },
  machineLearning: {
    endpoint: "machineLearning",
    method: "GET",
    apiVersion: "2017-09-01",
    headers: ["secret", "metadata"],
  },
};

describe.each(transports)("Bearer from every managed-identity source (%s)", (_name, makeTransport) => {
  let emu: Emulator;
  let transport: HttpTransport;
  const scratch = mkdtempSync(join(tmpdir(), "certbound-msi-arc-"));

  beforeAll(async () => {
    // A temporary Arc folder of its own: a test plants an oversized key file in it.
    emu = await startEmulator({ arcTokenFolder: "temporary" });
    transport = makeTransport();
  });
  afterAll(async () => {
    await transport?.close?.();
    await emu?.close();
    rmSync(scratch, { recursive: true, force: true });
  });
  beforeEach(() => {
    emu.clearFaults();
    emu.resetStats();
  });

  const client = (source: ManagedIdentitySourceName) =>
    createManagedIdentityClient({
      transport,
      env: emu.managedIdentityEnvironment(source),
      ca: emu.caCertificatePem,
      arcTokenFolder: emu.arcTokenFolder,
      clock: createTestClock({ now: Date.now() }),
      fileExists: () => false,
    });

  for (const source of Object.keys(expected) as ManagedIdentitySourceName[]) {
    it(`${source}: a Bearer token with the source's header and api-version`, async () => {
      const want = expected[source];
      const msi = client(source);
      await expect(msi.getManagedIdentitySource()).resolves.toMatchObject({ source });
      emu.resetStats();
      const result = await msi.acquireToken({ resource: `${emu.resourceUrl}/.default` });
      expect(result.tokenType).toBe("Bearer");
      expect(result.bindingCertificate).toBeUndefined();
      expect(result.expiresOn.getTime()).toBeGreaterThan(Date.now());
      expect(jwtPayload(result.accessToken)).toMatchObject({
        aud: emu.resourceUrl,
        oid: emu.systemAssignedIdentity.objectId,
      });

      const calls = emu.stats().recent.filter((r) => r.endpoint === want.endpoint);
      // Azure Arc answers the first call with its challenge; the second carries the key file's contents.
      expect(calls).toHaveLength(source === "azureArc" ? 2 : 1);
      const call = calls.at(-1);
      expect(call?.method).toBe(want.method);
      expect(call?.query["api-version"]).toBe(want.apiVersion);
      for (const header of want.headers) expect(call?.headers[header]).toBeDefined();
      if (want.headers.includes("metadata")) expect(call?.headers.metadata).toBe("true");
      const resource = source === "cloudShell" ? call?.form?.resource : call?.query.resource;
      expect(resource).toBe(emu.resourceUrl);

      const again = await msi.acquireToken({ resource: emu.resourceUrl });
      expect(again.metadata.tokenSource).toBe("cache");
      if (source !== "imds") {
        // Only IMDS v2 issues PoP tokens; elsewhere the request fails instead of falling back to Bearer.
        await expect(
          msi.acquireToken({ resource: emu.resourceUrl, mtlsProofOfPossession: true }),
        ).rejects.toMatchObject({ code: "mtls_pop_not_supported_for_environment" });
      }
      msi.close();
    });
  }

  it("Azure Arc: a challenge file outside the token folder is refused, and nothing is sent", async () => {
    const outside = join(scratch, "outside.key");
    writeFileSync(outside, "not-the-agents-key");
    emu.injectFault("azureArc", { status: 401, headers: { "www-authenticate": `Basic realm=${outside}` } });
    const msi = client("azureArc");
    const error = await msi.acquireToken({ resource: emu.resourceUrl }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "managed_identity_request_failed" });
    expect((error as Error).message).toMatch(/not inside the Azure Arc token folder/);
    expect((error as Error).message).not.toContain("not-the-agents-key");
    expect(emu.stats().requests.azureArc).toBe(1);
    msi.close();
  });

  it("Azure Arc: a challenge file larger than 4096 bytes is refused", async () => {
    const large = join(emu.arcTokenFolder, "large.key");
    writeFileSync(large, "k".repeat(5000));
    emu.injectFault("azureArc", { status: 401, headers: { "www-authenticate": `Basic realm=${large}` } });
    const msi = client("azureArc");
    await expect(msi.acquireToken({ resource: emu.resourceUrl })).rejects.toThrow(
      /larger than the 4096 bytes/,
    );
    expect(emu.stats().requests.azureArc).toBe(1);
    msi.close();
  });

  it("Azure Arc and Cloud Shell refuse user-assigned identities before any request", async () => {
    for (const source of ["azureArc", "cloudShell"] as const) {
      const msi = createManagedIdentityClient({
        transport,
        env: emu.managedIdentityEnvironment(source),
        clientId: emu.systemAssignedIdentity.clientId,
        fileExists: () => false,
      });
      await expect(msi.acquireToken({ resource: emu.resourceUrl })).rejects.toMatchObject({
        code: "managed_identity_unsupported_identity",
      });
      msi.close();
    }
    expect(emu.stats().requests.azureArc + emu.stats().requests.cloudShell).toBe(0);
  });

  it("close() during an acquisition in flight: aborted, saying the client was closed", async () => {
    const msi = client("appService");
    emu.injectFault("appService", { hang: true });
    const pending = msi.acquireToken({ resource: emu.resourceUrl }).catch((e: unknown) => e);
    // The emulator holds the request (injected `hang`): the call is in flight.
    for (let turns = 0; emu.stats().requests.appService === 0; turns++) {
      if (turns > 100_000) throw new Error("no request arrived");
      await new Promise((resolve) => setImmediate(resolve));
    }
    msi.close();
    const error = (await pending) as Error;
    expect(error).toMatchObject({ name: "CertboundError", code: "aborted" });
    expect(error.message).toMatch(/the client was closed \(close\(\) was called\)/);
    expect(error.message).not.toMatch(/AbortSignal/);
    await expect(msi.acquireToken({ resource: emu.resourceUrl })).rejects.toMatchObject({
      code: "aborted",
      message: error.message,
    });
  });

  it("an error answer becomes a ServiceError; invalid JSON a parse failure", async () => {
    const msi = client("appService");
    emu.injectFault("appService", {
      status: 400,
      body: JSON.stringify({ error: { code: "BadRequest", message: "no identity" } }),
    });
    await expect(msi.acquireToken({ resource: emu.resourceUrl })).rejects.toMatchObject({
      name: "ServiceError",
      status: 400,
      errorCode: "BadRequest",
    });
    emu.injectFault("appService", { status: 200, body: "{not json" });
    await expect(msi.acquireToken({ resource: emu.resourceUrl })).rejects.toMatchObject({
      code: "managed_identity_response_parse_failure",
    });
    msi.close();
  });
});
