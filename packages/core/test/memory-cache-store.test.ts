import { type CacheEntry, createMemoryCacheStore, LruMap } from "@certbound/core";
import { testCacheStore } from "@certbound/core/testing";
import { describe, expect, it } from "vitest";

testCacheStore("memory", () => createMemoryCacheStore());
testCacheStore("memory (async wrapper)", () => {
  const inner = createMemoryCacheStore();
  return {
    get: async (k) => inner.get(k),
    set: async (k, v) => inner.set(k, v),
    delete: async (k) => inner.delete?.(k),
  };
});

describe("memory cache store", () => {
  const entry = (t: string): CacheEntry => ({
    accessToken: t,
    tokenType: "Bearer",
    expiresAt: 1,
    scopes: [],
  });

  it("evicts the least recently used entry past maxEntries", () => {
    const store = createMemoryCacheStore({ maxEntries: 2 });
    store.set("a", entry("a"));
    store.set("b", entry("b"));
    store.get("a");
    store.set("c", entry("c"));
    expect(store.get("b")).toBeUndefined();
    expect(store.get("a")?.accessToken).toBe("a");
    expect(store.get("c")?.accessToken).toBe("c");
    expect(store.size).toBe(2);
  });

  it("holds 10,000 entries by default", () => {
    const store = createMemoryCacheStore();
    for (let i = 0; i <= 10_000; i++) store.set(`k${i}`, entry(String(i)));
    expect(store.size).toBe(10_000);
    expect(store.get("k0")).toBeUndefined();
  });

  it("rejects a bad bound with invalid_options", () => {
    expect(() => createMemoryCacheStore({ maxEntries: 0 })).toThrow(
      expect.objectContaining({ code: "invalid_options" }),
    );
    expect(() => new LruMap(1.5)).toThrow(RangeError);
  });

  it("reports evictions", () => {
    const evicted: string[] = [];
    const lru = new LruMap<string, number>(1, (k) => evicted.push(k));
    lru.set("x", 1);
    lru.set("y", 2);
    expect(evicted).toEqual(["x"]);
  });
});
