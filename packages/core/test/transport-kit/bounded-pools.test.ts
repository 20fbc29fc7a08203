import { describe, expect, it } from "vitest";
import { BoundedPools } from "../../src/transport-kit/index";

describe("BoundedPools", () => {
  it("creates a pool once per key and evicts the least recently used beyond the bound", () => {
    const evicted: string[] = [];
    const pools = new BoundedPools<string>(2, (pool) => evicted.push(pool));
    let created = 0;
    const make = (name: string) => () => {
      created += 1;
      return name;
    };
    expect(pools.get("a", make("pool-a"))).toBe("pool-a");
    expect(pools.get("b", make("pool-b"))).toBe("pool-b");
    // A hit makes "a" the most recent: "b" is now the eldest.
    expect(pools.get("a", make("unused"))).toBe("pool-a");
    expect(created).toBe(2);
    pools.get("c", make("pool-c"));
    expect(evicted).toEqual(["pool-b"]);
    expect(pools.size).toBe(2);
    expect(pools.get("b", make("pool-b2"))).toBe("pool-b2");
    expect(evicted).toEqual(["pool-b", "pool-a"]);
  });

  it("keeps recency right when the same key is asked again and again", () => {
    const evicted: string[] = [];
    const pools = new BoundedPools<string>(2, (pool) => evicted.push(pool));
    pools.get("a", () => "pool-a");
    pools.get("a", () => "unused");
    pools.get("b", () => "pool-b");
    // "a" again, several times: the first hit makes it the most recent, the others keep it so.
    pools.get("a", () => "unused");
    pools.get("a", () => "unused");
    pools.get("c", () => "pool-c");
    expect(evicted).toEqual(["pool-b"]);
    pools.get("c", () => "unused");
    pools.get("d", () => "pool-d");
    expect(evicted).toEqual(["pool-b", "pool-a"]);
    // After drain(), the key asked last before it is a miss like any other.
    pools.drain();
    expect(pools.get("d", () => "pool-d2")).toBe("pool-d2");
  });

  it("drain() hands back every pool and empties the map without evicting", () => {
    const evicted: string[] = [];
    const pools = new BoundedPools<string>(4, (pool) => evicted.push(pool));
    pools.get("x", () => "1");
    pools.get("y", () => "2");
    expect(pools.drain()).toEqual(["1", "2"]);
    expect(pools.size).toBe(0);
    expect(evicted).toEqual([]);
  });
});
