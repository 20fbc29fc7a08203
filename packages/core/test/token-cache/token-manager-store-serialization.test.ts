// Issue 15 item 4: a store holds strings the token manager wrote; key material stays with the
// credential that owns it, and a PoP entry is served only where its certificate is still held.
// Follows MSAL.NET src/client/Microsoft.Identity.Client/TokenCache.ITokenCacheInternal.cs
// FilterTokensByPopKeyId: the cache item names the key (x5t#S256), the request brings the certificate.
import {
  type BindingCertificate,
  type CacheStore,
  createMemoryCacheStore,
  type LogLevel,
} from "@certbound/core";
import {
  type AcquiredToken,
  createBindingCertificate,
  createTokenManager,
  EXPIRY_BUFFER_MS,
} from "@certbound/core/credential-kit";
import { createCertificateAuthority, createTestClock, jsonCacheStore } from "@certbound/testing";
import { describe, expect, it } from "vitest";

const ca = createCertificateAuthority({ commonName: "store serialisation CA" });
const certA = ca.issue({ commonName: "binding-a" });
const certB = ca.issue({ commonName: "binding-b" });
const bindingA = createBindingCertificate({
  certificate: certA.certificatePem,
  privateKey: certA.privateKey,
});
const bindingB = createBindingCertificate({
  certificate: certB.certificatePem,
  privateKey: certB.privateKey,
});
const HOUR = 3600_000;
const base = { clientId: "app", authority: "https://login.example/tenant", scopes: ["https://r/.default"] };
const popA = { ...base, tokenType: "mtls_pop" as const, x5tS256: bindingA.x5tS256 };

function recordingLogger() {
  const lines: { level: LogLevel; message: string; fields: unknown }[] = [];
  return {
    lines,
    logger: {
      level: "verbose" as const,
      log: (level: LogLevel, message: string, fields?: unknown) => lines.push({ level, message, fields }),
    },
  };
}

function popManager(
  store: CacheStore | undefined,
  clock = createTestClock(),
  held: BindingCertificate | undefined = bindingA,
  prefix = "token",
) {
  let n = 0;
  const { lines, logger } = recordingLogger();
  const manager = createTokenManager({
    cache: store,
    clock,
    logger,
    fetcher: async (request): Promise<AcquiredToken> => ({
      accessToken: `${prefix}-${++n}`,
      tokenType: request.tokenType,
      expiresOn: new Date(clock.now() + HOUR),
      bindingCertificate: request.tokenType === "mtls_pop" ? held : undefined,
    }),
    resolveBindingCertificate: (x5tS256) => (held?.x5tS256 === x5tS256 ? held : undefined),
  });
  return { manager, lines, issuedCount: () => n };
}

/** A store recording what it was given. */
function recordingStore() {
  const inner = createMemoryCacheStore();
  const sets: { key: string; value: unknown; ttlMs: number | undefined }[] = [];
  const store: CacheStore & { raw: Map<string, unknown> } = {
    raw: new Map(),
    get: (key) => inner.get(key),
    set: (key, value, ttlMs) => {
      sets.push({ key, value, ttlMs });
      inner.set(key, value, ttlMs);
    },
    delete: (key) => inner.delete(key),
  };
  return { store, sets, inner };
}

describe("what a store is given", () => {
  it("a PoP entry reaches the store as a string with the token and the thumbprint, and no key material", async () => {
    const { store, sets } = recordingStore();
    await popManager(store).manager.acquireToken(popA);
    expect(sets).toHaveLength(1);
    const value = sets[0]?.value;
    expect(typeof value).toBe("string");
    const text = value as string;
    const der = certA.privateKey.export({ format: "der", type: "pkcs8" });
    for (const secret of [
      "PRIVATE KEY",
      certA.keyPem,
      der.toString("base64"),
      der.toString("base64url"),
      String(certA.privateKey.export({ format: "jwk" }).d),
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain("token-1");
    expect(text).toContain(bindingA.x5tS256);
    // Nothing that JSON would silently turn into {} (a KeyObject, a Date): plain data only.
    expect(JSON.stringify(JSON.parse(text))).toBe(text);
  });

  it("hints a TTL: how long the token stays servable (expiry minus the 5-minute buffer)", async () => {
    const { store, sets } = recordingStore();
    await popManager(store).manager.acquireToken(popA);
    expect(sets[0]?.ttlMs).toBe(HOUR - EXPIRY_BUFFER_MS);
  });

  it("clamps the TTL hint to what a timer can hold (2^31-1 ms) and to at least 1 ms", async () => {
    const clock = createTestClock();
    const { store, sets } = recordingStore();
    const expiries = [clock.now() + 400 * 24 * HOUR, clock.now() + 60_000];
    const manager = createTokenManager({
      cache: store,
      clock,
      fetcher: async () => ({
        accessToken: "t",
        tokenType: "Bearer",
        expiresOn: new Date(expiries.shift() ?? 0),
      }),
    });
    await manager.acquireToken(base);
    await manager.acquireToken({ ...base, forceRefresh: true });
    expect(sets.map((s) => s.ttlMs)).toEqual([2 ** 31 - 1, 1]);
  });

  it("without a store nothing is serialised: every hit shares the source's certificate object", async () => {
    const { manager } = popManager(undefined);
    const first = await manager.acquireToken(popA);
    const hit = await manager.acquireToken(popA);
    expect(hit.metadata.tokenSource).toBe("cache");
    expect(hit.bindingCertificate).toBe(bindingA);
    expect(hit.bindingCertificate).toBe(first.bindingCertificate);
  });
});

describe("what is read back", () => {
  it("a PoP entry is served with the certificate the owning credential resolves", async () => {
    const store = jsonCacheStore();
    const clock = createTestClock();
    await popManager(store, clock).manager.acquireToken(popA);
    const second = popManager(store, clock);
    const hit = await second.manager.acquireToken(popA);
    expect(hit.metadata.tokenSource).toBe("cache");
    expect(hit.accessToken).toBe("token-1");
    expect(hit.bindingCertificate?.x5tS256).toBe(bindingA.x5tS256);
    expect(hit.bindingCertificate?.privateKey).toBe(bindingA.privateKey);
    expect(second.issuedCount()).toBe(0);
  });

  it("a PoP entry whose certificate is no longer held is a miss (no resolver, or it finds nothing)", async () => {
    const store = jsonCacheStore();
    const clock = createTestClock();
    await popManager(store, clock).manager.acquireToken(popA);
    const unresolved = createTokenManager({
      cache: store,
      clock,
      fetcher: async () => ({
        accessToken: "fresh",
        tokenType: "mtls_pop",
        expiresOn: new Date(clock.now() + HOUR),
        bindingCertificate: bindingA,
      }),
    });
    const result = await unresolved.acquireToken(popA);
    expect(result.metadata.tokenSource).toBe("identity_provider");
    const other = popManager(store, clock, bindingB);
    expect((await other.manager.acquireToken(popA)).metadata.tokenSource).toBe("identity_provider");
  });

  it("a resolver that throws is a miss, not a failure", async () => {
    const store = jsonCacheStore();
    const clock = createTestClock();
    await popManager(store, clock).manager.acquireToken(popA);
    const manager = createTokenManager({
      cache: store,
      clock,
      fetcher: async () => ({
        accessToken: "fresh",
        tokenType: "mtls_pop",
        expiresOn: new Date(clock.now() + HOUR),
        bindingCertificate: bindingA,
      }),
      resolveBindingCertificate: () => {
        throw new Error("vault down");
      },
    });
    expect((await manager.acquireToken(popA)).accessToken).toBe("fresh");
  });

  it("an unchanged value is parsed once: repeated hits share the same entry (scopes array)", async () => {
    const store = createMemoryCacheStore();
    const { manager } = popManager(store);
    await manager.acquireToken(popA);
    const first = await manager.acquireToken(popA);
    const second = await manager.acquireToken(popA);
    expect(first.metadata.tokenSource).toBe("cache");
    expect(second.scopes).toBe(first.scopes);
    expect(second.bindingCertificate).toBe(first.bindingCertificate);
    expect(Object.isFrozen(second.scopes)).toBe(true);
  });
});

describe("a memory store shared between token managers", () => {
  it("serves one manager's token to the other, and reads a replaced value again", async () => {
    const clock = createTestClock();
    const store = createMemoryCacheStore({ clock });
    const first = popManager(store, clock);
    const second = popManager(store, clock, bindingA, "second");
    const filled = await first.manager.acquireToken(popA);
    const hit = await second.manager.acquireToken(popA);
    expect(hit.metadata.tokenSource).toBe("cache");
    expect(hit.accessToken).toBe(filled.accessToken);
    expect(hit.bindingCertificate?.privateKey).toBe(bindingA.privateKey);
    // Another writer replaces the value: the next hit serves the new token, not what was decoded.
    const refreshed = await second.manager.acquireToken({ ...popA, forceRefresh: true });
    const after = await first.manager.acquireToken(popA);
    expect(after.metadata.tokenSource).toBe("cache");
    expect(after.accessToken).toBe(refreshed.accessToken);
    expect(after.accessToken).not.toBe(filled.accessToken);
  });

  it("a value put into it that this code did not write is a miss, logged", async () => {
    const clock = createTestClock();
    const store = createMemoryCacheStore({ clock });
    const { store: spy, sets } = recordingStore();
    await popManager(spy, clock).manager.acquireToken(popA);
    const key = sets[0]?.key ?? "";
    store.set(key, "garbage SECRET");
    const { manager, lines } = popManager(store, clock);
    expect((await manager.acquireToken(popA)).metadata.tokenSource).toBe("identity_provider");
    expect(lines.filter((l) => l.message.includes("cache store failed"))).toHaveLength(1);
    expect(JSON.stringify(lines)).not.toContain("SECRET");
    // Its own write replaced the garbage: served from the store again.
    expect((await manager.acquireToken(popA)).metadata.tokenSource).toBe("cache");
  });
});

describe("a store that lies is never trusted with more than it holds", () => {
  it("values that are not entries this code wrote are misses, logged without their content", async () => {
    const clock = createTestClock();
    const values: unknown[] = [
      "not json SECRET",
      '{"v":2,"at":"SECRET"}',
      JSON.stringify({
        accessToken: "SECRET",
        tokenType: "Bearer",
        expiresAt: clock.now() + HOUR,
        scopes: [],
      }),
      { accessToken: "SECRET", tokenType: "Bearer", expiresAt: clock.now() + HOUR, scopes: [] },
      42,
    ];
    for (const value of values) {
      const { lines, logger } = recordingLogger();
      const manager = createTokenManager({
        clock,
        logger,
        cache: { get: () => value as string, set: () => {} },
        fetcher: async () => ({
          accessToken: "fresh",
          tokenType: "Bearer",
          expiresOn: new Date(clock.now() + HOUR),
        }),
      });
      const result = await manager.acquireToken(base);
      expect(result.accessToken).toBe("fresh");
      expect(lines.filter((l) => l.message.includes("cache store failed"))).toHaveLength(1);
      expect(JSON.stringify(lines)).not.toContain("SECRET");
    }
  });

  it("another key's entry handed back under this key is a miss (a store that mixes keys up)", async () => {
    const clock = createTestClock();
    const { store, sets, inner } = recordingStore();
    const { manager } = popManager(store, clock);
    await manager.acquireToken({ ...base, scopes: ["https://other/.default"] });
    const foreign = sets[0]?.value as string;
    // Every read now answers with the other scope's token.
    const lying: CacheStore = { get: () => foreign, set: (k, v, t) => inner.set(k, v, t) };
    const victim = popManager(lying, clock);
    const result = await victim.manager.acquireToken(base);
    expect(result.metadata.tokenSource).toBe("identity_provider");
    expect(result.scopes).toEqual(base.scopes);
  });

  it("a PoP entry rewritten to name another held certificate is not served for this key", async () => {
    const clock = createTestClock();
    const { store, sets } = recordingStore();
    await popManager(store, clock).manager.acquireToken(popA);
    const rewritten = String(sets[0]?.value ?? "").replaceAll(bindingA.x5tS256, bindingB.x5tS256);
    // The resolver holds B too, but the key asks for A: the token bound to A is never sent with B.
    const manager = createTokenManager({
      cache: { get: () => rewritten, set: () => {} },
      clock,
      fetcher: async () => ({
        accessToken: "fresh",
        tokenType: "mtls_pop",
        expiresOn: new Date(clock.now() + HOUR),
        bindingCertificate: bindingA,
      }),
      resolveBindingCertificate: (x5t) => [bindingA, bindingB].find((b) => b.x5tS256 === x5t),
    });
    const result = await manager.acquireToken(popA);
    expect(result.accessToken).toBe("fresh");
    expect(result.bindingCertificate?.x5tS256).toBe(bindingA.x5tS256);
  });

  it("evict removes the entry from the store and from what was kept deserialised", async () => {
    const store = createMemoryCacheStore();
    const { manager } = popManager(store);
    await manager.acquireToken(popA);
    await manager.evict(popA);
    expect(store.size).toBe(0);
    expect((await manager.acquireToken(popA)).metadata.tokenSource).toBe("identity_provider");
  });
});
