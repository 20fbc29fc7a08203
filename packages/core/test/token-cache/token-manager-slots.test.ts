// The key memo holds the in-process cache's slots (so a hit is one lookup): a slot that stopped
// being live (replaced, evicted, deleted) must never be served, from the memo or from the
// last-request shortcut, and the cache stays bounded.
import { type AcquiredToken, createTokenManager, type FetchRequest } from "@certbound/core/credential-kit";
import { createTestClock } from "@certbound/testing";
import { describe, expect, it } from "vitest";
import { deadSlot, LocalTokens } from "../../src/token-cache/local-tokens";

const app = { clientId: "app", authority: "https://login.example/tenant" };
const scopeOf = (i: number) => `https://r-${i}.example/.default`;

function manager() {
  const clock = createTestClock();
  const calls: string[] = [];
  const m = createTokenManager({
    clock,
    fetcher: async (req: FetchRequest): Promise<AcquiredToken> => {
      calls.push(req.scopes[0] as string);
      return {
        accessToken: `token-${calls.length}`,
        tokenType: "Bearer",
        expiresOn: new Date(clock.now() + 3600_000),
      };
    },
  });
  return { m, calls, clock };
}

describe("token manager slots", () => {
  it("serves the new token after a replacement, through the last-request shortcut and the memo", async () => {
    const { m } = manager();
    const a = { ...app, scopes: [scopeOf(1)] };
    const b = { ...app, scopes: [scopeOf(2)] };
    expect((await m.acquireToken(a)).accessToken).toBe("token-1");
    expect((await m.acquireToken(b)).accessToken).toBe("token-2");
    // `a` is replaced while `b` is the last request: the next `a` goes through the memo.
    expect((await m.acquireToken({ ...a, forceRefresh: true })).accessToken).toBe("token-3");
    expect((await m.acquireToken(b)).accessToken).toBe("token-2");
    expect((await m.acquireToken({ ...a, scopes: [scopeOf(1)] })).accessToken).toBe("token-3");
    // And through the shortcut: `a` is now the last request, replaced again.
    expect((await m.acquireToken({ ...a, forceRefresh: true })).accessToken).toBe("token-4");
    expect((await m.acquireToken(a)).accessToken).toBe("token-4");
    expect((await m.acquireToken(a)).metadata.tokenSource).toBe("cache");
  });

  it("never serves an evicted token, however the request reaches its slot", async () => {
    const { m, calls } = manager();
    const a = { ...app, scopes: [scopeOf(1)] };
    await m.acquireToken(a);
    // A hit: the memo and the shortcut now hold the token's own slot.
    expect((await m.acquireToken(a)).metadata.tokenSource).toBe("cache");
    await m.evict({ ...a, tokenType: "Bearer" });
    // The last-request shortcut still points at the dead slot.
    expect((await m.acquireToken(a)).accessToken).toBe("token-2");
    expect((await m.acquireToken(a)).metadata.tokenSource).toBe("cache");
    await m.acquireToken({ ...app, scopes: [scopeOf(2)] });
    await m.evict({ ...a, tokenType: "Bearer" });
    // The memo still points at the dead slot.
    expect((await m.acquireToken({ ...app, scopes: [scopeOf(1)] })).accessToken).toBe("token-4");
    expect(calls).toEqual([scopeOf(1), scopeOf(1), scopeOf(2), scopeOf(1)]);
  });

  it("stays bounded at 10,000 tokens, evicts one not used since the last sweep, keeps one in use", async () => {
    const { m, calls } = manager();
    const hot = { ...app, scopes: [scopeOf(0)] };
    await m.acquireToken(hot);
    for (let i = 1; i <= 10_000; i++) {
      await m.acquireToken({ ...app, scopes: [scopeOf(i)] });
      if (i % 1000 === 0) expect((await m.acquireToken(hot)).metadata.tokenSource).toBe("cache");
    }
    expect(calls).toHaveLength(10_001);
    // The hot key survived the sweep; the first cold one did not, and its memo slot is dead.
    expect((await m.acquireToken(hot)).metadata.tokenSource).toBe("cache");
    const cold = await m.acquireToken({ ...app, scopes: [scopeOf(1)] });
    expect(cold.metadata.tokenSource).toBe("identity_provider");
    expect(calls).toHaveLength(10_002);
  });

  it("a scope alias is resolved only on a miss, never remembered when resolving throws, and fetches with the real scopes", async () => {
    const { m, calls } = manager();
    const resolved: string[] = [];
    const scopesOf = (alias: string) => {
      resolved.push(alias);
      if (alias.includes(" ")) throw new Error(`bad alias ${alias}`);
      return [`${alias.toLowerCase()}/.default`];
    };
    const call = (alias: string) =>
      m.acquireToken({ ...app, scopes: [], scopeAlias: alias, scopesOf } as never);
    for (let i = 0; i < 2; i++) await expect(call("a b")).rejects.toThrow("bad alias a b");
    const first = await call("https://R");
    expect(first.scopes).toEqual(["https://r/.default"]);
    expect(calls).toEqual(["https://r/.default"]);
    // Another spelling of the same scopes: resolved once, then served from the same token.
    expect((await call("https://r")).accessToken).toBe(first.accessToken);
    expect((await call("https://R")).accessToken).toBe(first.accessToken);
    expect((await call("https://r")).metadata.tokenSource).toBe("cache");
    // A miss resolves it for the key and again for the fetch; the first hit of each spelling once
    // more (a miss remembers nothing); later hits never.
    expect(resolved).toEqual(["a b", "a b", "https://R", "https://R", "https://r", "https://R"]);
    // Not mixed up with a plain request whose scope is the alias string.
    const plain = await m.acquireToken({ ...app, scopes: ["https://R"] });
    expect(plain.accessToken).toBe("token-2");
    expect((await call("https://R")).accessToken).toBe(first.accessToken);
  });

  it("LocalTokens: a replaced, deleted or evicted slot stops being live; dead slots have the live shape", () => {
    const tokens = new LocalTokens(2);
    const entry = (t: string) => ({
      accessToken: t,
      tokenType: "Bearer" as const,
      expiresAt: 1e12,
      scopes: [],
      bindingCertificate: { x5tS256: `x5t-${t}` } as never,
    });
    const a1 = tokens.set("a", entry("1"));
    const a2 = tokens.set("a", entry("2"));
    expect([a1.live, a2.live, tokens.slot("a")]).toEqual([false, true, a2]);
    const b = tokens.set("b", entry("b"));
    tokens.delete("b");
    expect(b.live).toBe(false);
    tokens.set("b", entry("b"));
    a2.used = false;
    tokens.set("c", entry("c"));
    expect(a2.live).toBe(false);
    expect(tokens.size).toBe(2);
    // A dead slot (the memo may keep it) holds neither the token nor a certificate.
    for (const dead of [a1, a2, b]) {
      expect(dead.accessToken).toBe("");
      expect(dead.bindingCertificate).toBeUndefined();
    }
    expect(Object.keys(deadSlot("k"))).toEqual(Object.keys(a2));
    expect(deadSlot("k").live).toBe(false);
    expect(() => new LocalTokens(0)).toThrow(RangeError);
  });
});
