// Isolation: tokens for different tenants, client ids, managed identities, scopes, token types and
// certificates never cross, even when every client shares one cache store; and a throttled
// (Retry-After) request blocks only identical requests.
import { randomUUID } from "node:crypto";
import type { TokenResult } from "@certbound/core";
import { decodeJwtPayload } from "@certbound/core/credential-kit";
import type { ConfidentialClient } from "@certbound/credential-cert";
import type { ManagedIdentityClient } from "@certbound/credential-msi";
import type { IssuedCertificate } from "@certbound/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedCacheStore, startWorld, type World } from "./support/world";

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  await world?.close();
});

/** What a token must say about itself, checked on its claims. */
interface Want {
  readonly label: string;
  readonly tokenType: "mtls_pop" | "Bearer";
  readonly appId: string;
  readonly tenantId: string;
  readonly audience: string;
  /** For PoP: the certificate the token must be bound to (and returned with). */
  readonly boundTo?: string | undefined;
}

type Acquire = () => Promise<TokenResult>;

function check(result: TokenResult, want: Want): void {
  const claims = decodeJwtPayload(result.accessToken) ?? {};
  const cnf = claims.cnf as Record<string, unknown> | undefined;
  expect({
    label: want.label,
    tokenType: result.tokenType,
    appId: claims.appid,
    tenantId: claims.tid,
    audience: claims.aud,
    boundTo: cnf?.["x5t#S256"],
    bindingCertificate: result.bindingCertificate?.x5tS256,
  }).toEqual({
    label: want.label,
    tokenType: want.tokenType,
    appId: want.appId,
    tenantId: want.tenantId,
    audience: want.audience,
    boundTo: want.boundTo,
    bindingCertificate: want.boundTo,
  });
}

describe("isolation across one shared cache store", () => {
  it("never hands one key's token to another: tenants, clients, identities, scopes, token types, certificates", async () => {
    const { emu } = world;
    world.freshClock();
    const cache = sharedCacheStore();
    const otherTenant = randomUUID();
    const r1 = emu.resourceUrl;
    const r2 = "api://reliability-other-resource";

    // Two applications in two tenants, one of them with two registered certificates.
    const appA = world.app;
    const certA2 = world.appCa.issue({ commonName: "app-a-second", keyType: "ec" });
    emu.registerConfidentialClient({ clientId: appA.clientId, certificatePem: certA2.certificatePem });
    const appB = {
      clientId: randomUUID(),
      certificate: world.appCa.issue({ commonName: "app-b", keyType: "ec" }),
    };
    emu.registerConfidentialClient({
      clientId: appB.clientId,
      certificatePem: appB.certificate.certificatePem,
      tenantId: otherTenant,
    });
    const pem = (c: IssuedCertificate) => ({ certificatePem: c.certificatePem, privateKey: c.privateKey });
    const a1 = world.certClient({ cache });
    const a2 = world.certClient({ cache, certificate: pem(certA2) });
    const b = world.certClient({
      cache,
      clientId: appB.clientId,
      authority: `${emu.authorityHost}/${otherTenant}`,
      certificate: pem(appB.certificate),
    });
    // Two managed identities of the VM, and one App Service identity, on the same store.
    const user = emu.registerManagedIdentity();
    const system = world.msiClient("imds", { cache });
    const userAssigned = world.msiClient("imds", { cache, clientId: user.clientId });
    const appService = world.msiClient("appService", { cache });

    const cases: Array<{ acquire: Acquire; want: (r: TokenResult) => Want }> = [];
    const app = (
      label: string,
      client: ConfidentialClient,
      appId: string,
      tenantId: string,
      cert: string | undefined,
    ) => {
      for (const [resource, pop] of [
        [r1, true],
        [r1, false],
        [r2, true],
        [r2, false],
      ] as const) {
        if (!pop && cert === "ec") continue; // Bearer needs an RSA key: only app A's first certificate.
        cases.push({
          acquire: () =>
            client.acquireTokenForClient({ scopes: [`${resource}/.default`], mtlsProofOfPossession: pop }),
          want: (r) => ({
            label: `${label} ${resource} ${pop ? "PoP" : "Bearer"}`,
            tokenType: pop ? "mtls_pop" : "Bearer",
            appId,
            tenantId,
            audience: resource,
            boundTo: pop ? r.bindingCertificate?.x5tS256 : undefined,
          }),
        });
      }
    };
    app("app A, certificate 1", a1, appA.clientId, emu.tenantId, "rsa");
    app("app A, certificate 2", a2, appA.clientId, emu.tenantId, "ec");
    app("app B, other tenant", b, appB.clientId, otherTenant, "ec");
    const mi = (label: string, client: ManagedIdentityClient, appId: string, pop: boolean) => {
      for (const resource of [r1, r2]) {
        cases.push({
          acquire: () => client.acquireToken({ resource, mtlsProofOfPossession: pop }),
          want: (r) => ({
            label: `${label} ${resource} ${pop ? "PoP" : "Bearer"}`,
            tokenType: pop ? "mtls_pop" : "Bearer",
            appId,
            tenantId: emu.tenantId,
            audience: resource,
            boundTo: pop ? r.bindingCertificate?.x5tS256 : undefined,
          }),
        });
      }
    };
    mi("system identity", system, emu.systemAssignedIdentity.clientId, true);
    mi("system identity", system, emu.systemAssignedIdentity.clientId, false);
    mi("user-assigned identity", userAssigned, user.clientId, true);
    mi("user-assigned identity", userAssigned, user.clientId, false);
    mi("App Service identity", appService, emu.systemAssignedIdentity.clientId, false);

    // First round from the identity provider, second round from the shared cache, interleaved in
    // reverse so that any key collision would hand a token to the wrong caller.
    const first: TokenResult[] = [];
    for (const c of cases) first.push(await c.acquire());
    const second: TokenResult[] = [];
    for (const c of [...cases].reverse()) second.unshift(await c.acquire());

    cases.forEach((c, i) => {
      const one = first[i] as TokenResult;
      const two = second[i] as TokenResult;
      check(one, c.want(one));
      check(two, c.want(two));
      expect(one.metadata.tokenSource).toBe("identity_provider");
      expect({
        label: c.want(one).label,
        source: two.metadata.tokenSource,
        same: two.accessToken === one.accessToken,
      }).toEqual({ label: c.want(one).label, source: "cache", same: true });
    });
    // Every case has its own token, and PoP tokens of app A's two certificates are bound apart.
    expect(new Set(first.map((r) => r.accessToken)).size).toBe(cases.length);
    expect(
      first.filter((r) => r.tokenType === "Bearer").every((r) => r.bindingCertificate === undefined),
    ).toBe(true);
    const byLabel = (label: string) =>
      first[cases.findIndex((c, i) => c.want(first[i] as TokenResult).label === label)] as TokenResult;
    const a1Pop = byLabel(`app A, certificate 1 ${emu.resourceUrl} PoP`);
    const a2Pop = byLabel(`app A, certificate 2 ${emu.resourceUrl} PoP`);
    expect(a1Pop.bindingCertificate?.x5tS256).toBe(world.app.certificate.x5tS256);
    expect(a2Pop.bindingCertificate?.x5tS256).toBe(certA2.x5tS256);
    expect(cases.length).toBe(18);
    expect(cache.map.size).toBe(cases.length);
    for (const client of [a1, a2, b]) client.close();
    for (const client of [system, userAssigned, appService]) client.close();
  });

  it("a rotated certificate (provider function) misses the cache and gets a token bound to the new one", async () => {
    const { emu } = world;
    world.freshClock();
    const next = world.appCa.issue({ commonName: "app-a-rotated", keyType: "ec" });
    emu.registerConfidentialClient({ clientId: world.app.clientId, certificatePem: next.certificatePem });
    let current: IssuedCertificate = world.app.certificate;
    const client = world.certClient({
      certificate: () => ({ certificatePem: current.certificatePem, privateKey: current.privateKey }),
    });
    const request = { scopes: [`${emu.resourceUrl}/.default`], mtlsProofOfPossession: true };
    const before = await client.acquireTokenForClient(request);
    current = next;
    const after = await client.acquireTokenForClient(request);
    expect(after.metadata.tokenSource).toBe("identity_provider");
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(decodeJwtPayload(after.accessToken)?.cnf).toEqual({ "x5t#S256": next.x5tS256 });
    expect(after.bindingCertificate?.x5tS256).toBe(next.x5tS256);
    current = world.app.certificate;
    const back = await client.acquireTokenForClient(request);
    expect(back.accessToken).toBe(before.accessToken);
    client.close();
  });
});

describe("throttling isolation", () => {
  it("a Retry-After from Entra blocks the identical request only, until it passes", async () => {
    const { emu } = world;
    const clock = world.freshClock();
    emu.clearFaults();
    emu.resetStats();
    const s1 = `${emu.resourceUrl}/.default`;
    const s2 = "api://reliability-throttle-other/.default";
    const client = world.certClient();
    const otherId = randomUUID();
    emu.registerConfidentialClient({
      clientId: otherId,
      certificatePem: world.app.certificate.certificatePem,
    });
    const other = world.certClient({ clientId: otherId });
    emu.injectFault("token", { status: 429, headers: { "retry-after": "60" } });
    const first = await client.acquireTokenForClient({ scopes: [s1] }).catch((e: unknown) => e);
    expect(first).toMatchObject({ code: "service_error", status: 429, retryAfterMs: 60_000 });
    const sent = () => emu.stats().requests.token;
    expect(sent()).toBe(1);

    // The identical request fails locally, without a request.
    const again = await client.acquireTokenForClient({ scopes: [s1] }).catch((e: unknown) => e);
    expect(again).toMatchObject({ code: "throttled" });
    expect(sent()).toBe(1);
    // Anything else goes through: another scope, the PoP variant, another client.
    await expect(client.acquireTokenForClient({ scopes: [s2] })).resolves.toMatchObject({
      tokenType: "Bearer",
    });
    await expect(
      client.acquireTokenForClient({ scopes: [s1], mtlsProofOfPossession: true }),
    ).resolves.toMatchObject({
      tokenType: "mtls_pop",
    });
    await expect(other.acquireTokenForClient({ scopes: [s1] })).resolves.toMatchObject({
      tokenType: "Bearer",
    });
    // Once the time has passed, the identical request is sent again.
    await clock.sleep(60_000);
    await expect(client.acquireTokenForClient({ scopes: [s1] })).resolves.toMatchObject({
      tokenType: "Bearer",
    });
    client.close();
    other.close();
  });

  it("a Retry-After blocks locally for at most one hour, however long the server asks", async () => {
    const { emu } = world;
    const clock = world.freshClock();
    emu.clearFaults();
    emu.resetStats();
    const client = world.certClient();
    const request = { scopes: [`${emu.resourceUrl}/.default`] };
    emu.injectFault("token", { status: 429, headers: { "retry-after": String(6 * 3600) } });
    await expect(client.acquireTokenForClient(request)).rejects.toMatchObject({ status: 429 });
    await clock.sleep(3600_000 - 1000);
    await expect(client.acquireTokenForClient(request)).rejects.toMatchObject({ code: "throttled" });
    await clock.sleep(1000);
    await expect(client.acquireTokenForClient(request)).resolves.toMatchObject({ tokenType: "Bearer" });
    expect(emu.stats().requests.token).toBe(2);
    client.close();
  });

  it("a Retry-After from the mTLS endpoint blocks the identical managed-identity PoP request only", async () => {
    const { emu } = world;
    const clock = world.freshClock();
    emu.clearFaults();
    emu.resetStats();
    const client = world.msiClient("imds");
    emu.injectFault("mtlsToken", { status: 429, headers: { "retry-after": "30" } });
    const r1 = emu.resourceUrl;
    const r2 = "api://reliability-throttle-mi";
    await expect(client.acquireToken({ resource: r1, mtlsProofOfPossession: true })).rejects.toMatchObject({
      code: "service_error",
      status: 429,
    });
    const tokenRequests = () => emu.stats().requests.mtlsToken;
    expect(tokenRequests()).toBe(1);
    await expect(client.acquireToken({ resource: r1, mtlsProofOfPossession: true })).rejects.toMatchObject({
      code: "throttled",
    });
    expect(tokenRequests()).toBe(1);
    await expect(client.acquireToken({ resource: r2, mtlsProofOfPossession: true })).resolves.toMatchObject({
      tokenType: "mtls_pop",
    });
    await expect(client.acquireToken({ resource: r1 })).resolves.toMatchObject({ tokenType: "Bearer" });
    await clock.sleep(30_000);
    await expect(client.acquireToken({ resource: r1, mtlsProofOfPossession: true })).resolves.toMatchObject({
      tokenType: "mtls_pop",
    });
    client.close();
  });
});
