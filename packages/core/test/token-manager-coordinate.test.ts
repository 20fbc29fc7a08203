// Issue 16: a store shared by processes may coordinate their acquisitions (CacheStore.coordinate),
// so that a cold fleet makes one token request. Here "processes" are token managers sharing one
// memory store and a fake lease; the Redis store tests it across real processes.
import {
  type CacheStore,
  type CacheWriteOptions,
  CertboundError,
  createMemoryCacheStore,
} from "@certbound/core";
import {
  type AcquiredToken,
  createBindingCertificate,
  createTokenManager,
} from "@certbound/core/credential-kit";
import { createCertificateAuthority, createTestClock } from "@certbound/testing";
import { describe, expect, it } from "vitest";

const HOUR = 3600_000;
const request = {
  clientId: "app",
  authority: "https://login.example/tenant",
  scopes: ["https://r/.default"],
};

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

// One lease for the whole "fleet": the first caller acquires, the others wait for its release.
function coordinatingFleet() {
  const memory = createMemoryCacheStore();
  let holder: Promise<void> | undefined;
  const calls: string[] = [];
  const store = (): CacheStore => ({
    get: (k) => memory.get(k),
    set: (k, v, ttl) => memory.set(k, v, ttl),
    delete: (k) => memory.delete(k),
    async coordinate(key, acquire, signal) {
      expect(signal).toBeInstanceOf(AbortSignal);
      calls.push(key);
      if (holder === undefined) {
        holder = acquire().finally(() => {
          holder = undefined;
        });
        return holder;
      }
      await holder.catch(() => undefined);
    },
  });
  return { store, calls };
}

function manager(cache: CacheStore, source: () => Promise<AcquiredToken>) {
  return createTokenManager({ cache, clock: createTestClock(), source });
}

describe("CacheStore.coordinate", () => {
  it("makes one acquisition for several managers on a cold key; the others read the stored entry", async () => {
    const fleet = coordinatingFleet();
    const gate = deferred();
    let requests = 0;
    const source = async (): Promise<AcquiredToken> => {
      requests++;
      await gate.promise;
      return { accessToken: `t-${requests}`, tokenType: "Bearer", expiresOn: new Date(Date.now() + HOUR) };
    };
    const managers = [0, 1, 2, 3].map(() => manager(fleet.store(), source));
    const pending = managers.map((m) => m.acquireToken(request));
    await new Promise((r) => setImmediate(r));
    gate.resolve();
    const results = await Promise.all(pending);
    expect(requests).toBe(1);
    expect(results.map((r) => r.accessToken)).toEqual(["t-1", "t-1", "t-1", "t-1"]);
    expect(results.map((r) => r.metadata.tokenSource)).toEqual([
      "identity_provider",
      "cache",
      "cache",
      "cache",
    ]);
    expect(fleet.calls).toHaveLength(4);
  });

  it("acquires itself when the holder failed and nothing was stored", async () => {
    const fleet = coordinatingFleet();
    const gate = deferred();
    let requests = 0;
    const source = async (): Promise<AcquiredToken> => {
      requests++;
      if (requests === 1) {
        await gate.promise;
        throw new CertboundError("network_error", "first fails");
      }
      return { accessToken: `t-${requests}`, tokenType: "Bearer", expiresOn: new Date(Date.now() + HOUR) };
    };
    const a = manager(fleet.store(), source);
    const b = manager(fleet.store(), source);
    const first = a.acquireToken(request);
    const second = b.acquireToken(request);
    await new Promise((r) => setImmediate(r));
    gate.resolve();
    await expect(first).rejects.toMatchObject({ code: "network_error" });
    expect((await second).accessToken).toBe("t-2");
  });

  it("reads the store again under the lease: a process that missed just before another stored and released makes no request", async () => {
    // The race the fleet bench hit on a slow machine (2 token requests for 4 processes): B misses,
    // A takes the lease, stores its token and releases; only then does B ask for the lease, gets
    // it (it is free), and must find A's token instead of asking for another.
    const memory = createMemoryCacheStore();
    let requests = 0;
    const source = async (): Promise<AcquiredToken> => ({
      accessToken: `t-${++requests}`,
      tokenType: "Bearer",
      expiresOn: new Date(Date.now() + HOUR),
    });
    const a = manager({ get: (k) => memory.get(k), set: (k, v, ttl) => memory.set(k, v, ttl) }, source);
    const late: CacheStore = {
      get: (k) => memory.get(k),
      set: (k, v, ttl) => memory.set(k, v, ttl),
      async coordinate(_key, acquire) {
        // B's miss has happened; A runs its whole acquisition now, then B holds the free lease.
        await a.acquireToken(request);
        await acquire();
      },
    };
    const b = manager(late, source);
    const result = await b.acquireToken(request);
    expect(requests).toBe(1);
    expect(result.accessToken).toBe("t-1");
    expect(result.metadata.tokenSource).toBe("cache");
  });

  it("under the lease, an entry no longer worth serving is acquired again", async () => {
    const memory = createMemoryCacheStore();
    const clock = createTestClock();
    let requests = 0;
    const source = async (): Promise<AcquiredToken> => {
      requests++;
      // The first token has 2 minutes left: inside the 5-minute expiry buffer.
      const life = requests === 1 ? 120_000 : HOUR;
      return { accessToken: `t-${requests}`, tokenType: "Bearer", expiresOn: new Date(clock.now() + life) };
    };
    const plain: CacheStore = { get: (k) => memory.get(k), set: (k, v, ttl) => memory.set(k, v, ttl) };
    const a = createTokenManager({ cache: plain, clock, source });
    const b = createTokenManager({
      cache: { ...plain, coordinate: async (_key, acquire) => acquire() },
      clock,
      source,
    });
    expect((await a.acquireToken(request)).accessToken).toBe("t-1");
    const result = await b.acquireToken(request);
    expect(result.accessToken).toBe("t-2");
    expect(result.metadata.tokenSource).toBe("identity_provider");
    expect(requests).toBe(2);
  });

  it("bypasses a coordinate that rejects without acquiring, and is not used for forceRefresh", async () => {
    const memory = createMemoryCacheStore();
    let coordinations = 0;
    const store: CacheStore = {
      get: (k) => memory.get(k),
      set: (k, v, ttl) => memory.set(k, v, ttl),
      coordinate: async () => {
        coordinations++;
        throw new Error("redis down");
      },
    };
    let requests = 0;
    const m = manager(store, async () => ({
      accessToken: `t-${++requests}`,
      tokenType: "Bearer",
      expiresOn: new Date(Date.now() + HOUR),
    }));
    expect((await m.acquireToken(request)).accessToken).toBe("t-1");
    expect(coordinations).toBe(1);
    expect((await m.acquireToken({ ...request, forceRefresh: true })).accessToken).toBe("t-2");
    expect(coordinations).toBe(1);
  });
});

describe("popTokensShareable", () => {
  const cert = createCertificateAuthority({ commonName: "share CA" }).issue({ commonName: "bound" });
  const binding = createBindingCertificate({ certificate: cert.certificatePem, privateKey: cert.privateKey });
  const pop = { ...request, tokenType: "mtls_pop" as const, x5tS256: binding.x5tS256 };

  function recordingStore() {
    const memory = createMemoryCacheStore();
    const writes: { key: string; options: CacheWriteOptions | undefined }[] = [];
    let coordinations = 0;
    const store: CacheStore = {
      get: (k) => memory.get(k),
      set: (k, v, ttl, options) => {
        writes.push({ key: k, options });
        memory.set(k, v, ttl);
      },
      coordinate: async (_key, acquire) => {
        coordinations++;
        await acquire();
      },
    };
    return { store, writes, coordinations: () => coordinations };
  }
  const source = async (req: { tokenType: string }): Promise<AcquiredToken> =>
    req.tokenType === "mtls_pop"
      ? {
          accessToken: "pop",
          tokenType: "mtls_pop",
          expiresOn: new Date(Date.now() + HOUR),
          bindingCertificate: binding,
        }
      : { accessToken: "bearer", tokenType: "Bearer", expiresOn: new Date(Date.now() + HOUR) };

  it("marks a managed identity's PoP entries process-only and does not coordinate them; Bearer stays shareable", async () => {
    const r = recordingStore();
    const m = createTokenManager({ cache: r.store, source, popTokensShareable: false });
    await m.acquireToken(pop);
    expect(r.writes.map((w) => w.options)).toEqual([{ shareable: false }]);
    expect(r.coordinations()).toBe(0);
    await m.acquireToken(request);
    expect(r.writes.map((w) => w.options)).toEqual([{ shareable: false }, { shareable: true }]);
    expect(r.coordinations()).toBe(1);
  });

  it("marks PoP entries shareable by default (a confidential client's certificate is every instance's)", async () => {
    const r = recordingStore();
    const m = createTokenManager({ cache: r.store, source });
    await m.acquireToken(pop);
    expect(r.writes.map((w) => w.options)).toEqual([{ shareable: true }]);
    expect(r.coordinations()).toBe(1);
  });
});
