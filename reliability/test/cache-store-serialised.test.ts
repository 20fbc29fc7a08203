// Issue 15 item 4, end to end: a store that serialises through JSON holds PoP tokens without key
// material, and PoP tokens served through it still reach the resource with the right certificate.
// Confidential client: a second instance holding the same certificate is served from the store.
// Managed identity: a second instance does not hold the first one's in-memory binding key, so the
// stored token is a miss there and it acquires its own.
// Follows MSAL.NET src/client/Microsoft.Identity.Client/TokenCache.ITokenCacheInternal.cs
// FindAccessTokenAsync / FilterTokensByPopKeyId (a cached PoP token keeps only its key id, x5t#S256,
// and is served only for a request whose certificate has that id) and
// tests/Microsoft.Identity.Test.Unit/PublicApiTests/MtlsPopTests.cs
// MtlsPop_SameKeyCertRenewal_MustNotServeStaleCachedTokenAsync (another certificate: a miss).
import { ResourceCaller, type TokenResult } from "@certbound/core";
import { jsonCacheStore } from "@certbound/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorld, type World } from "./support/world";

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  await world?.close();
});

const WIRE_FIELDS = new Set(["v", "k", "at", "tt", "exp", "ref", "sc", "tid", "ep", "x5t"]);

/** Every value of the store's JSON document, parsed: only the serialised entry's public fields. */
function storedEntries(document: string): Record<string, unknown>[] {
  const slots = JSON.parse(document) as Record<string, { value: string }>;
  return Object.values(slots).map((slot) => JSON.parse(slot.value) as Record<string, unknown>);
}

function expectNoKeyMaterial(document: string, keys: readonly import("node:crypto").KeyObject[]): void {
  expect(document).not.toMatch(/PRIVATE KEY/);
  expect(document).not.toContain("client_assertion");
  for (const key of keys) {
    const der = key.export({ format: "der", type: "pkcs8" });
    expect(document).not.toContain(der.toString("base64"));
    expect(document).not.toContain(der.toString("base64url"));
    expect(document).not.toContain(String(key.export({ format: "jwk" }).d));
  }
  for (const entry of storedEntries(document)) {
    for (const field of Object.keys(entry)) expect(WIRE_FIELDS.has(field)).toBe(true);
  }
}

async function callResource(result: TokenResult): Promise<number> {
  const caller = new ResourceCaller({ transport: world.transport, ca: world.emu.caCertificatePem });
  return (await caller.call(result, `${world.emu.resourceUrl}/data`)).status;
}

describe("a JSON-serialising cache store shared by two instances of one credential", () => {
  it("confidential client: the second instance (same certificate) is served the PoP token from the store, and it reaches the resource", async () => {
    const clock = world.freshClock();
    const store = jsonCacheStore({ clock });
    const request = { scopes: [`${world.emu.resourceUrl}/.default`], mtlsProofOfPossession: true };
    const first = world.certClient({ cache: store });
    const filled = await first.acquireTokenForClient(request);
    expect(filled.metadata.tokenSource).toBe("identity_provider");

    world.emu.resetStats();
    const second = world.certClient({ cache: store });
    const read = await second.acquireTokenForClient(request);
    expect(read.metadata.tokenSource).toBe("cache");
    expect(world.emu.stats().requests.mtlsToken).toBe(0);
    expect(read.accessToken).toBe(filled.accessToken);
    expect(read.bindingCertificate?.x5tS256).toBe(world.app.certificate.x5tS256);
    expect(read.bindingCertificate?.privateKey.equals(world.app.certificate.privateKey)).toBe(true);
    expect(await callResource(read)).toBe(200);

    // Bearer tokens of the same app share the store as well.
    const bearer = await first.acquireTokenForClient({ scopes: request.scopes });
    expect((await second.acquireTokenForClient({ scopes: request.scopes })).accessToken).toBe(
      bearer.accessToken,
    );

    expectNoKeyMaterial(store.document, [world.app.certificate.privateKey]);
    expect(storedEntries(store.document).map((e) => e.x5t)).toContain(world.app.certificate.x5tS256);
    first.close();
    second.close();
  });

  it("confidential client: an instance with another certificate of the same app gets its own token, bound to its own certificate", async () => {
    const clock = world.freshClock();
    const store = jsonCacheStore({ clock });
    const other = world.appCa.issue({ commonName: "reliability-app-second", keyType: "ec" });
    world.emu.registerConfidentialClient({
      clientId: world.app.clientId,
      certificatePem: other.certificatePem,
    });
    const request = { scopes: [`${world.emu.resourceUrl}/.default`], mtlsProofOfPossession: true };
    const first = world.certClient({ cache: store });
    const filled = await first.acquireTokenForClient(request);
    const second = world.certClient({
      cache: store,
      certificate: { certificatePem: other.certificatePem, privateKey: other.privateKey },
    });
    const read = await second.acquireTokenForClient(request);
    expect(read.metadata.tokenSource).toBe("identity_provider");
    expect(read.accessToken).not.toBe(filled.accessToken);
    expect(read.bindingCertificate?.x5tS256).toBe(other.x5tS256);
    expect(await callResource(read)).toBe(200);
    // The first token with the second certificate is refused: the binding is what the resource checks.
    await expect(
      callResource({ ...filled, bindingCertificate: read.bindingCertificate }),
    ).rejects.toMatchObject({
      code: "binding_certificate_mismatch",
      status: 401,
    });
    expectNoKeyMaterial(store.document, [world.app.certificate.privateKey, other.privateKey]);
    first.close();
    second.close();
  });

  it("managed identity: the second instance does not hold the in-memory binding key, so the stored PoP token is a miss; each token reaches the resource with its own certificate", async () => {
    const clock = world.freshClock();
    const store = jsonCacheStore({ clock });
    const options = { cache: store, env: {}, imdsEndpoint: world.emu.imdsEndpoint, keyProvider: undefined };
    const request = { resource: world.emu.resourceUrl, mtlsProofOfPossession: true };
    const first = world.msiClient("imds", options);
    const filled = await first.acquireToken(request);
    expect(filled.metadata.tokenSource).toBe("identity_provider");
    // The first instance reads its own entry back through the store.
    const again = await first.acquireToken(request);
    expect(again.metadata.tokenSource).toBe("cache");
    expect(again.bindingCertificate?.x5tS256).toBe(filled.bindingCertificate?.x5tS256);

    const second = world.msiClient("imds", options);
    world.emu.resetStats();
    const read = await second.acquireToken(request);
    expect(read.metadata.tokenSource).toBe("identity_provider");
    expect(world.emu.stats().requests.mtlsToken).toBe(1);
    expect(read.accessToken).not.toBe(filled.accessToken);
    expect(read.bindingCertificate?.x5tS256).not.toBe(filled.bindingCertificate?.x5tS256);

    expect(await callResource(again)).toBe(200);
    expect(await callResource(read)).toBe(200);
    await expect(
      callResource({ ...filled, bindingCertificate: read.bindingCertificate }),
    ).rejects.toMatchObject({
      code: "binding_certificate_mismatch",
      status: 401,
    });

    const keys = [filled, read].map((r) => r.bindingCertificate?.privateKey).filter((k) => k !== undefined);
    expectNoKeyMaterial(store.document, keys);
    first.close();
    second.close();
  });
});
