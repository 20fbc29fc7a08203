import type { BindingCertificate, CacheStore } from "@certbound/core";
import {
  createCertificateAuthority,
  createTokenManager,
  EXPIRY_BUFFER_MS,
  type FetchRequest,
  type IssuedCertificate,
} from "@certbound/core/credential-kit";
import { describe, expect, it } from "vitest";
import { createTestClock, type TestClock } from "./test-clock";

/**
 * What {@link testCacheStore} hands the factory of each case.
 *
 * @public
 * @example
 * ```ts
 * testCacheStore("memory", ({ clock }) => createMemoryCacheStore({ clock }));
 * ```
 */
export interface CacheStoreTestContext {
  /** The clock of the case: a store that keeps time itself should measure `ttlMs` on it. */
  readonly clock: TestClock;
}

/**
 * Options of {@link testCacheStore}.
 *
 * @public
 * @example
 * ```ts
 * testCacheStore("redis", () => createRedisStore(client), { ttlClock: "own" });
 * ```
 */
export interface CacheStoreSuiteOptions {
  /**
   * `"test"`: the store measures `ttlMs` on the context's clock, and the suite checks that an entry
   * is gone once its TTL has passed. `"own"`: the store expires entries on a clock of its own (a
   * Redis server); the suite then checks only that entries are there within their TTL.
   * @default "test"
   */
  readonly ttlClock?: "test" | "own" | undefined;
}

const SCOPE = "https://resource.example/.default";
const HOUR = 3600_000;

/**
 * The conformance suite every {@link CacheStore} must pass: exact string round trips, keys kept
 * apart, TTL, concurrent writers, and tokens (Bearer and mTLS PoP) going through token managers
 * that share the store, where a PoP entry resolves only where its certificate is held and its
 * serialised form carries no key material. Call it inside a vitest test file.
 *
 * @public
 * @example
 * ```ts
 * import { jsonCacheStore, testCacheStore } from "@certbound/testing";
 * testCacheStore("json", ({ clock }) => jsonCacheStore({ clock }));
 * ```
 */
export function testCacheStore(
  name: string,
  factory: (context: CacheStoreTestContext) => CacheStore | Promise<CacheStore>,
  options: CacheStoreSuiteOptions = {},
): void {
  const ttlClock = options.ttlClock ?? "test";
  const start = async () => {
    const clock = createTestClock({ now: Math.floor(Date.now() / 1000) * 1000, autoAdvance: false });
    return { clock, store: await factory({ clock }) };
  };
  // Records every value the token managers write, to look for key material in it.
  const recording = (store: CacheStore) => {
    const written: string[] = [];
    const wrapped: CacheStore = {
      get: (key) => store.get(key),
      set: (key, value, ttlMs) => {
        written.push(value);
        return store.set(key, value, ttlMs);
      },
    };
    if (store.delete) wrapped.delete = (key) => store.delete?.(key);
    return { wrapped, written };
  };

  describe(`CacheStore conformance: ${name}`, () => {
    it("returns undefined for a key never set", async () => {
      const { store } = await start();
      expect(await store.get("missing")).toBeUndefined();
    });

    it("returns exactly the string that was set (unicode, NUL, quotes, 64 KiB)", async () => {
      const { store } = await start();
      const values = [
        '{"v":1,"at":"eyJ0eXAiOiJKV1QifQ.e30.sig","sc":["a","b"]}',
        'é 漢字 \u{1F510} \u0000 "quoted" \\ \r\n end',
        "x".repeat(64 * 1024),
        "",
      ];
      for (const [i, value] of values.entries()) {
        await store.set(`k${i}`, value, HOUR);
        expect(await store.get(`k${i}`)).toBe(value);
      }
    });

    it("keeps keys apart", async () => {
      const { store } = await start();
      await store.set("a", "ta", HOUR);
      await store.set("b", "tb", HOUR);
      expect(await store.get("a")).toBe("ta");
      expect(await store.get("b")).toBe("tb");
    });

    it("overwrites a value on set", async () => {
      const { store } = await start();
      await store.set("k", "old", HOUR);
      await store.set("k", "new", HOUR);
      expect(await store.get("k")).toBe("new");
    });

    it("deletes when it supports delete", async () => {
      const { store } = await start();
      if (!store.delete) return;
      await store.set("k", "t", HOUR);
      await store.delete("k");
      expect(await store.get("k")).toBeUndefined();
      await store.delete("never-set");
    });

    it("treats keys as exact strings (case, separators and unicode)", async () => {
      const { store } = await start();
      await store.set("A\u0000b", "upper", HOUR);
      await store.set("a\u0000b", "lower", HOUR);
      await store.set("é", "accent", HOUR);
      expect(await store.get("A\u0000b")).toBe("upper");
      expect(await store.get("a\u0000b")).toBe("lower");
      expect(await store.get("e")).toBeUndefined();
    });

    it("keeps an entry for its TTL, and one without a TTL", async () => {
      const { clock, store } = await start();
      await store.set("ttl", "v1", 60_000);
      await store.set("no-ttl", "v2");
      await clock.advance(59_000);
      expect(await store.get("ttl")).toBe("v1");
      expect(await store.get("no-ttl")).toBe("v2");
    });

    if (ttlClock === "test") {
      it("drops an entry once its TTL has passed on the clock it was given", async () => {
        const { clock, store } = await start();
        await store.set("ttl", "v1", 60_000);
        await store.set("longer", "v2", 120_000);
        await clock.advance(60_001);
        expect(await store.get("ttl")).toBeUndefined();
        expect(await store.get("longer")).toBe("v2");
        // Setting again starts a new TTL.
        await store.set("ttl", "v3", 60_000);
        expect(await store.get("ttl")).toBe("v3");
      });
    }

    it("takes concurrent writers: each value is whole, the last one of a key is one of those written", async () => {
      const { store } = await start();
      const value = (i: number) => `${JSON.stringify({ writer: i })}${"y".repeat(2048)}${i}`;
      const sameKey = Array.from({ length: 50 }, (_, i) => value(i));
      await Promise.all(sameKey.map((v) => store.set("contended", v, HOUR)));
      expect(sameKey).toContain(await store.get("contended"));
      const keys = Array.from({ length: 200 }, (_, i) => `key-${i}`);
      await Promise.all(keys.map((k, i) => store.set(k, value(i), HOUR)));
      const read = await Promise.all(keys.map((k) => store.get(k)));
      expect(read).toEqual(keys.map((_, i) => value(i)));
    });

    describe("through token managers sharing the store", () => {
      let issued: { a: IssuedCertificate; b: IssuedCertificate } | undefined;
      const certificates = () => {
        if (!issued) {
          const ca = createCertificateAuthority({ commonName: "cache store conformance CA" });
          issued = { a: ca.issue({ commonName: "binding-a" }), b: ca.issue({ commonName: "binding-b" }) };
        }
        return issued;
      };
      const binding = (c: IssuedCertificate): BindingCertificate => ({
        certificatePem: c.certificatePem,
        privateKey: c.privateKey,
        x5tS256: c.x5tS256,
        notAfter: c.notAfter,
      });
      // One credential instance: a token manager with its own source and, for PoP, the certificate
      // it holds (the resolver finds only that one).
      const instance = (store: CacheStore, clock: TestClock, held: BindingCertificate | undefined) => {
        let issuedCount = 0;
        const calls: FetchRequest[] = [];
        const manager = createTokenManager({
          cache: store,
          clock,
          fetcher: async (request) => {
            calls.push(request);
            issuedCount++;
            const pop = request.tokenType === "mtls_pop";
            return {
              accessToken: `token-${held?.x5tS256 ?? "bearer"}-${issuedCount}-${Math.random()}`,
              tokenType: request.tokenType,
              expiresOn: new Date(clock.now() + HOUR),
              refreshOn: new Date(clock.now() + HOUR / 2),
              tenantId: "tenant-1",
              tokenEndpoint: "https://login.example/tenant-1/oauth2/v2.0/token",
              bindingCertificate: pop ? held : undefined,
            };
          },
          resolveBindingCertificate: (x5tS256) => (held?.x5tS256 === x5tS256 ? held : undefined),
        });
        const acquire = (pop: boolean) =>
          manager.acquireToken({
            clientId: "app",
            authority: "https://login.example/tenant-1",
            scopes: [SCOPE],
            tokenType: pop ? "mtls_pop" : "Bearer",
            x5tS256: pop ? held?.x5tS256 : undefined,
          });
        return { manager, calls, acquire };
      };

      it("round-trips a Bearer token: a second instance serves it from the store, every field intact", async () => {
        const { clock, store } = await start();
        const first = instance(store, clock, undefined);
        const filled = await first.acquire(false);
        const second = instance(store, clock, undefined);
        const read = await second.acquire(false);
        expect(second.calls).toHaveLength(0);
        expect(read.metadata.tokenSource).toBe("cache");
        expect({ ...read, metadata: undefined }).toEqual({ ...filled, metadata: undefined });
        expect(read.metadata.tokenEndpoint).toBe(filled.metadata.tokenEndpoint);
      });

      it("round-trips a PoP token to an instance holding its certificate, with that certificate's key", async () => {
        const { clock, store } = await start();
        const cert = binding(certificates().a);
        const { wrapped, written } = recording(store);
        const first = instance(wrapped, clock, cert);
        const filled = await first.acquire(true);
        const second = instance(wrapped, clock, cert);
        const read = await second.acquire(true);
        expect(second.calls).toHaveLength(0);
        expect(read.metadata.tokenSource).toBe("cache");
        expect(read.accessToken).toBe(filled.accessToken);
        expect(read.tokenType).toBe("mtls_pop");
        expect(read.bindingCertificate?.x5tS256).toBe(cert.x5tS256);
        expect(read.bindingCertificate?.certificatePem).toBe(cert.certificatePem);
        expect(read.bindingCertificate?.privateKey.equals(cert.privateKey)).toBe(true);
        expect(written.length).toBeGreaterThan(0);
      });

      it("stores no key material: no private key (PEM, DER, JWK), only the token and the thumbprint", async () => {
        const { clock, store } = await start();
        const cert = binding(certificates().a);
        const { wrapped, written } = recording(store);
        await instance(wrapped, clock, cert).acquire(true);
        const key = certificates().a;
        const der = key.privateKey.export({ format: "der", type: "pkcs8" });
        const jwk = key.privateKey.export({ format: "jwk" });
        const secrets = [
          "PRIVATE KEY",
          key.keyPem,
          der.toString("base64"),
          der.toString("base64url"),
          der.toString("hex"),
          String(jwk.d),
        ];
        const stored = [...written];
        for (const value of stored) {
          expect(typeof value).toBe("string");
          for (const secret of secrets) expect(value).not.toContain(secret);
          expect(value).toContain(cert.x5tS256);
        }
        expect(stored).toHaveLength(1);
      });

      it("is a miss for an instance that does not hold the certificate: it acquires anew", async () => {
        const { clock, store } = await start();
        const first = instance(store, clock, binding(certificates().a));
        const filled = await first.acquire(true);
        // Another instance, same request, but it holds no certificate (a managed identity's
        // in-memory key): the store's entry must not be served to it.
        const stranger = createTokenManager({
          cache: store,
          clock,
          fetcher: async (request) => ({
            accessToken: "fresh",
            tokenType: request.tokenType,
            expiresOn: new Date(clock.now() + HOUR),
            bindingCertificate: binding(certificates().b),
          }),
          resolveBindingCertificate: () => undefined,
        });
        const read = await stranger.acquireToken({
          clientId: "app",
          authority: "https://login.example/tenant-1",
          scopes: [SCOPE],
          tokenType: "mtls_pop",
          x5tS256: filled.bindingCertificate?.x5tS256,
        });
        expect(read.metadata.tokenSource).toBe("identity_provider");
        expect(read.accessToken).toBe("fresh");
        expect(read.bindingCertificate?.x5tS256).toBe(certificates().b.x5tS256);
      });

      it("never serves a token past its expiry (less than the 5-minute buffer left)", async () => {
        const { clock, store } = await start();
        const first = instance(store, clock, binding(certificates().a));
        const filled = await first.acquire(true);
        await clock.advance(HOUR - EXPIRY_BUFFER_MS + 1);
        const second = instance(store, clock, binding(certificates().a));
        const read = await second.acquire(true);
        expect(read.metadata.tokenSource).toBe("identity_provider");
        expect(read.accessToken).not.toBe(filled.accessToken);
      });

      it("takes concurrent writers of one key: any instance then reads one whole, servable token", async () => {
        const { clock, store } = await start();
        const cert = binding(certificates().a);
        const writers = Array.from({ length: 8 }, () => instance(store, clock, cert));
        const results = await Promise.all(writers.map((w) => w.acquire(true)));
        const reader = instance(store, clock, cert);
        const read = await reader.acquire(true);
        expect(read.metadata.tokenSource).toBe("cache");
        expect(results.map((r) => r.accessToken)).toContain(read.accessToken);
        expect(read.bindingCertificate?.x5tS256).toBe(cert.x5tS256);
      });
    });
  });
}
