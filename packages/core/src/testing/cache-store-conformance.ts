import { describe, expect, it } from "vitest";
import type { CacheEntry, CacheStore } from "../cache-store";

/**
 * The conformance suite every {@link CacheStore} must pass. Call it inside a vitest test file.
 *
 * @example
 * ```ts
 * import { testCacheStore } from "@certbound/core/testing";
 * testCacheStore("memory", () => createMemoryCacheStore());
 * ```
 */
export function testCacheStore(name: string, factory: () => CacheStore | Promise<CacheStore>): void {
  const entry = (token: string, overrides: Partial<CacheEntry> = {}): CacheEntry => ({
    accessToken: token,
    tokenType: "Bearer",
    expiresAt: Date.UTC(2030, 0, 1),
    scopes: ["https://resource/.default"],
    ...overrides,
  });

  describe(`CacheStore conformance: ${name}`, () => {
    it("returns undefined for a key never set", async () => {
      const store = await factory();
      expect(await store.get("missing")).toBeUndefined();
    });

    it("returns what was set, with every field intact", async () => {
      const store = await factory();
      const value = entry("t1", {
        refreshAt: Date.UTC(2029, 0, 1),
        tenantId: "tenant",
        tokenEndpoint: "https://x/token",
      });
      await store.set("k1", value);
      expect(await store.get("k1")).toEqual(value);
    });

    it("keeps keys apart", async () => {
      const store = await factory();
      await store.set("a", entry("ta"));
      await store.set("b", entry("tb"));
      expect((await store.get("a"))?.accessToken).toBe("ta");
      expect((await store.get("b"))?.accessToken).toBe("tb");
    });

    it("overwrites an entry on set", async () => {
      const store = await factory();
      await store.set("k", entry("old"));
      await store.set("k", entry("new"));
      expect((await store.get("k"))?.accessToken).toBe("new");
    });

    it("deletes when it supports delete", async () => {
      const store = await factory();
      if (!store.delete) return;
      await store.set("k", entry("t"));
      await store.delete("k");
      expect(await store.get("k")).toBeUndefined();
      await store.delete("never-set");
    });

    it("treats keys as exact strings (case, separators and unicode)", async () => {
      const store = await factory();
      await store.set("A\u0000b", entry("upper"));
      await store.set("a\u0000b", entry("lower"));
      await store.set("é", entry("accent"));
      expect((await store.get("A\u0000b"))?.accessToken).toBe("upper");
      expect((await store.get("a\u0000b"))?.accessToken).toBe("lower");
      expect((await store.get("e"))?.accessToken).toBeUndefined();
    });
  });
}
