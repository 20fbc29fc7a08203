// Outside review (issue 12, "Cache and refresh"), from the application's side: the built clients
// against the emulator over real TLS, a caller that mutates results, an identity provider that
// fails fast, a cache store that fails, and two token endpoints behind one shared store.
import { randomUUID } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { type CacheStore, ResourceCaller, type TokenResult } from "@certbound/core";
import { createTokenManager } from "@certbound/core/credential-kit";
import { type Emulator, startEmulator } from "@certbound/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nextTick, waitUntil } from "./support/wait";
import { capturingLogger, sharedCacheStore, startWorld, type World } from "./support/world";

let world: World;
let other: Emulator;
beforeAll(async () => {
  world = await startWorld();
  // A second Entra + IMDS on other ports: the "other cloud" of item 9. Same tenant, same app.
  // Its tokens live 24 h, so managed-identity tokens get a half-life refresh (item 6).
  other = await startEmulator({
    now: () => world.clock.now(),
    tenantId: world.emu.tenantId,
    tokenLifetimeSeconds: 86_400,
  });
  other.registerConfidentialClient({
    clientId: world.app.clientId,
    certificatePem: world.app.certificate.certificatePem,
  });
});
afterAll(async () => {
  await other?.close();
  await world?.close();
});

const scope = () => `${world.emu.resourceUrl}/.default`;
const issuerOf = (result: TokenResult) =>
  JSON.parse(Buffer.from(result.accessToken.split(".")[1] as string, "base64url").toString()).iss as string;

describe("item 5: a result cannot corrupt the cache or the client's certificate", () => {
  it("mutating a PoP result's binding certificate fails, and later calls and resource calls still work", async () => {
    world.freshClock();
    const client = world.certClient();
    const request = { scopes: [scope()], mtlsProofOfPossession: true };
    const first = await client.acquireTokenForClient(request);
    const binding = first.bindingCertificate as NonNullable<TokenResult["bindingCertificate"]>;
    const notAfter = binding.notAfter.getTime();
    const other = world.appCa.issue({ commonName: "someone else", keyType: "rsa" });
    // What the review did: overwrite the shared certificate of the result.
    const attempts: Array<() => unknown> = [
      () => Object.assign(binding, { certificatePem: other.certificatePem }),
      () => Object.assign(binding, { privateKey: other.privateKey }),
      () => Object.assign(binding, { x5tS256: other.x5tS256 }),
      () => binding.notAfter.setTime(0),
      () => binding.notAfter.setFullYear(3000),
    ];
    for (const attempt of attempts) expect(attempt).toThrow(TypeError);
    const hit = await client.acquireTokenForClient(request);
    expect(hit.metadata.tokenSource).toBe("cache");
    expect(hit.bindingCertificate?.notAfter.getTime()).toBe(notAfter);
    // The client's own certificate is intact: a new token over mTLS, and a resource call with it.
    const fresh = await client.acquireTokenForClient({ ...request, forceRefresh: true });
    expect(fresh.metadata.tokenSource).toBe("identity_provider");
    const caller = new ResourceCaller({ transport: world.transport, ca: world.emu.caCertificatePem });
    const response = await caller.call(fresh, `${world.emu.resourceUrl}/data`);
    expect(response.status).toBe(200);
    client.close();
  });
});

describe("item 6: a failed background refresh backs off", () => {
  it("500 cache hits against an IMDS answering 400 send a bounded number of refresh requests", async () => {
    const clock = world.freshClock();
    world.emu.clearFaults();
    const logger = capturingLogger();
    const msi = world.msiClient("imds", { logger, env: {}, imdsEndpoint: other.imdsEndpoint });
    const resource = world.emu.resourceUrl;
    const first = await msi.acquireToken({ resource });
    const refreshOn = first.refreshOn?.getTime();
    expect(refreshOn).toBeDefined();
    await clock.advance((refreshOn as number) - clock.now() + 1);
    other.resetStats();
    other.injectFault("imdsToken", {
      status: 400,
      body: JSON.stringify({ error: "invalid_request", error_description: "Identity not found" }),
      count: Number.POSITIVE_INFINITY,
    });
    const count = (prefix: string) =>
      logger.lines.filter((l) => (l as { message: string }).message.startsWith(prefix)).length;
    try {
      for (let i = 0; i < 500; i++) {
        const hit = await msi.acquireToken({ resource });
        expect(hit.accessToken).toBe(first.accessToken);
        // A refresh this hit started is let finish (fail) before the next hit: a slow loop, the
        // case where the old code sent one request per hit.
        await waitUntil(
          () =>
            count("background token refresh failed") >= count("refreshing a cached token in the background"),
        );
        await nextTick();
        await clock.advance(100);
      }
      // 50 s of hits: refreshes at 0 s, 10 s and 30 s (waits of 10 s, 20 s, then 40 s); IMDS does
      // not retry a 400, so one request each.
      expect(count("background token refresh failed")).toBe(3);
      expect(other.stats().requests.imdsToken).toBe(3);
    } finally {
      other.clearFaults();
      msi.close();
    }
  });
});

describe("item 8: a failing cache store does not fail acquisitions", () => {
  it.each([
    [
      "throws",
      (): never => {
        throw new Error("store offline");
      },
    ],
    ["rejects", () => Promise.reject(new Error("store offline"))],
  ] as const)(
    "a store whose get and set %s: tokens come from Entra, the failure is logged once",
    async (_, fail) => {
      world.freshClock();
      const logger = capturingLogger();
      const store: CacheStore = { get: fail, set: fail, delete: fail };
      const client = world.certClient({ cache: store, logger });
      world.emu.resetStats();
      for (let i = 0; i < 5; i++) {
        const result = await client.acquireTokenForClient({ scopes: [scope()], mtlsProofOfPossession: true });
        expect(result.metadata.tokenSource).toBe("identity_provider");
      }
      expect(world.emu.stats().requests.mtlsToken).toBe(5);
      const storeLines = logger.lines.filter((l) =>
        (l as { message: string }).message.includes("cache store failed"),
      );
      expect(storeLines).toHaveLength(1);
      client.close();
    },
  );
});

describe("item 9: the cache key includes the token endpoint's origin", () => {
  it("two confidential clients that differ only in authorityHost / mtlsAuthorityHost never share a token", async () => {
    world.freshClock();
    const cache = sharedCacheStore();
    // The same app, tenant, authority string and certificate: only the token endpoint's host differs.
    const authority = `https://login.microsoftonline.com/${world.emu.tenantId}`;
    const a = world.certClient({ cache, authority });
    const b = world.certClient({
      cache,
      ca: other.caCertificatePem,
      authority,
      authorityHost: other.authorityHost,
      mtlsAuthorityHost: other.mtlsAuthorityHost,
    });
    for (const mtlsProofOfPossession of [true, false]) {
      const request = { scopes: [scope()], mtlsProofOfPossession };
      const fromA = await a.acquireTokenForClient(request);
      const fromB = await b.acquireTokenForClient(request);
      expect(fromB.metadata.tokenSource).toBe("identity_provider");
      expect(issuerOf(fromB)).toContain(new URL(other.authorityHost).host);
      expect(issuerOf(fromA)).toContain(new URL(world.emu.authorityHost).host);
      expect((await a.acquireTokenForClient(request)).accessToken).toBe(fromA.accessToken);
      expect((await b.acquireTokenForClient(request)).accessToken).toBe(fromB.accessToken);
    }
    a.close();
    b.close();
  });

  it("two managed-identity clients that differ only in the IMDS endpoint never share a token", async () => {
    world.freshClock();
    const cache = sharedCacheStore();
    const a = world.msiClient("imds", { cache, env: {}, imdsEndpoint: world.emu.imdsEndpoint });
    const b = world.msiClient("imds", {
      cache,
      env: {},
      imdsEndpoint: other.imdsEndpoint,
      ca: other.caCertificatePem,
    });
    world.emu.resetStats();
    other.resetStats();
    const fromA = await a.acquireToken({ resource: world.emu.resourceUrl });
    const fromB = await b.acquireToken({ resource: world.emu.resourceUrl });
    expect(fromB.metadata.tokenSource).toBe("identity_provider");
    expect(fromB.accessToken).not.toBe(fromA.accessToken);
    expect(other.stats().requests.imdsToken).toBe(1);
    a.close();
    b.close();
  });
});

describe("item 7: the token manager's memory is bounded", () => {
  it("100,000 authorities with a 10,000-entry cache keep the heap bounded", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const manager = createTokenManager({
      fetcher: async () => ({
        accessToken: "t",
        tokenType: "Bearer",
        expiresOn: new Date(Date.now() + 3600_000),
      }),
    });
    const scopes = ["https://r/.default"];
    const run = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        await manager.acquireToken({
          clientId: "app",
          authority: `https://login.example/${randomUUID()}`,
          scopes,
        });
      }
    };
    // Fill the cache (10,000 entries) and the memo first; then 90,000 more authorities.
    await run(0, 20_000);
    gc();
    const before = process.memoryUsage().heapUsed;
    await run(20_000, 100_000);
    gc();
    const grownMb = (process.memoryUsage().heapUsed - before) / 1e6;
    // Unbounded, this grew by about 930 bytes per authority (~75 MB for 80,000).
    expect(grownMb).toBeLessThan(15);
    manager.close();
  });
});
