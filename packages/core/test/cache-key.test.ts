import { tokenCacheKey } from "@certbound/core";
import { describe, expect, it } from "vitest";
import { CacheKeyMemo } from "../src/cache-key";
import { nextCorrelationId } from "../src/correlation-id";

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
    const memo = new CacheKeyMemo(app.clientId, app.authority);
    for (const [scopes, type, x5t] of [
      [["S"], "Bearer", undefined],
      [["S"], "mtls_pop", "t1"],
      [["S"], "mtls_pop", "t2"],
      [["b", "a"], "mtls_pop", "t1"],
    ] as const) {
      const expected = tokenCacheKey({ ...app, scopes, x5tS256: x5t }, type);
      expect(memo.keyFor(scopes, type, x5t)).toBe(expected);
      expect(memo.keyFor(scopes, type, x5t)).toBe(expected);
    }
  });

  it("cache-hit correlation ids are unique and UUID-shaped", () => {
    const ids = new Set(Array.from({ length: 1000 }, nextCorrelationId));
    expect(ids.size).toBe(1000);
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
