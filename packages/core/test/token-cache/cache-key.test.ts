import { tokenCacheKey } from "@certbound/core/credential-kit";
import { describe, expect, it } from "vitest";
import { nextCorrelationId } from "../../src/protocol/correlation-id";
import { CacheKeyMemo } from "../../src/token-cache/cache-key";

const app = { clientId: "App", authority: "https://login.example/Tenant" };

describe("cache keys", () => {
  it("ignore scope order and case, and include client, authority, token type and thumbprint", () => {
    const k = (scopes: string[], type: "Bearer" | "mtls_pop" = "Bearer", x5tS256?: string, a = app) =>
      tokenCacheKey({ ...a, scopes, x5tS256 }, type);
    expect(k(["b", "A"])).toBe(k(["a", "B"]));
    expect(k(["a"])).not.toBe(k(["a"], "mtls_pop", "x"));
    expect(k(["a"], "mtls_pop", "x")).not.toBe(k(["a"], "mtls_pop", "y"));
    expect(k(["a"], "Bearer", "x")).toBe(k(["a"], "Bearer", "y"));
    expect(k(["a"])).not.toBe(k(["a"], "Bearer", undefined, { ...app, clientId: "other" }));
    expect(k(["a"])).not.toBe(
      k(["a"], "Bearer", undefined, { ...app, authority: "https://login.example/other" }),
    );
  });

  it("the memo returns exactly the computed key, per token type and thumbprint", () => {
    const memo = new CacheKeyMemo();
    for (const [scopes, type, x5t] of [
      [["S"], "Bearer", undefined],
      [["S"], "mtls_pop", "t1"],
      [["S"], "mtls_pop", "t2"],
      [["b", "a"], "mtls_pop", "t1"],
    ] as const) {
      const expected = tokenCacheKey({ ...app, scopes, x5tS256: x5t }, type);
      expect(memo.keyFor(app.clientId, app.authority, scopes, type, x5t)).toBe(expected);
      expect(memo.keyFor(app.clientId, app.authority, scopes, type, x5t)).toBe(expected);
    }
  });

  // Outside review, issue 12 item 7: the memo kept one entry per authority forever (+92 MB for
  // 100k authorities while the token cache held 10k).
  it("the memo stays bounded across 100,000 authorities and keeps recently used keys", () => {
    const memo = new CacheKeyMemo(1000);
    const scopes = ["https://r/.default"];
    const hot = "https://login.example/hot";
    for (let i = 0; i < 100_000; i++) {
      const authority = `https://login.example/tenant-${i}`;
      expect(memo.keyFor("app", authority, scopes, "Bearer", undefined)).toBe(
        tokenCacheKey({ clientId: "app", authority, scopes }, "Bearer"),
      );
      // A key used all along survives every generation change.
      if (i % 500 === 0) memo.keyFor("app", hot, scopes, "Bearer", undefined);
      expect(memo.size).toBeLessThanOrEqual(2000);
    }
    expect(memo.keyFor("app", hot, scopes, "Bearer", undefined)).toBe(
      tokenCacheKey({ clientId: "app", authority: hot, scopes }, "Bearer"),
    );
    expect(() => new CacheKeyMemo(0)).toThrow(RangeError);
  });

  it("cache-hit correlation ids are unique and UUID-shaped", () => {
    const ids = new Set(Array.from({ length: 1000 }, nextCorrelationId));
    expect(ids.size).toBe(1000);
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
