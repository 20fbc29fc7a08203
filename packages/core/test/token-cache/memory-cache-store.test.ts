import { createMemoryCacheStore } from "@certbound/core";
import { LruMap } from "@certbound/core/credential-kit";
import { createTestClock, jsonCacheStore, testCacheStore } from "@certbound/testing";
import { describe, expect, it } from "vitest";

testCacheStore("memory", ({ clock }) => createMemoryCacheStore({ clock }));
testCacheStore("memory (async wrapper)", ({ clock }) => {
  const inner = createMemoryCacheStore({ clock });
  return {
    get: async (k) => inner.get(k),
    set: async (k, v, ttlMs) => inner.set(k, v, ttlMs),
    delete: async (k) => inner.delete(k),
  };
});
// The reference store: everything through JSON, as Redis or a file would hold it.
testCacheStore("json reference (jsonCacheStore)", ({ clock }) => jsonCacheStore({ clock }));

describe("memory cache store", () => {
  it("evicts the least recently used entry past maxEntries", () => {
    const store = createMemoryCacheStore({ maxEntries: 2 });
    store.set("a", "a");
    store.set("b", "b");
    store.get("a");
    store.set("c", "c");
    expect(store.get("b")).toBeUndefined();
    expect(store.get("a")).toBe("a");
    expect(store.get("c")).toBe("c");
    expect(store.size).toBe(2);
  });

  it("holds 10,000 entries by default", () => {
    const store = createMemoryCacheStore();
    for (let i = 0; i <= 10_000; i++) store.set(`k${i}`, String(i));
    expect(store.size).toBe(10_000);
    expect(store.get("k0")).toBeUndefined();
  });

  it("forgets an expired entry when it is read", async () => {
    const clock = createTestClock({ autoAdvance: false });
    const store = createMemoryCacheStore({ clock });
    store.set("k", "v", 1000);
    await clock.advance(1000);
    expect(store.get("k")).toBeUndefined();
    expect(store.size).toBe(0);
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
