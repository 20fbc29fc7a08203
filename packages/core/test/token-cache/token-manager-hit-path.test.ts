// The cache-hit fast path: what it skips must never change what a call gets.

import {
  type AcquiredToken,
  createTokenManager,
  EXPIRY_BUFFER_MS,
  type FetchRequest,
  type TokenManagerCall,
} from "@certbound/core/credential-kit";
import { createTestClock } from "@certbound/testing";
import { describe, expect, it } from "vitest";

const base = { clientId: "app", authority: "https://login.example/tenant" };

function setup() {
  const clock = createTestClock({ now: Date.UTC(2030, 0, 1) });
  const calls: FetchRequest[] = [];
  const manager = createTokenManager({
    clock,
    fetcher: async (req): Promise<AcquiredToken> => {
      calls.push(req);
      return {
        accessToken: `token-${calls.length}-${req.scopes.join(",")}`,
        tokenType: "Bearer",
        expiresOn: new Date(clock.now() + 3600_000),
      };
    },
  });
  return { clock, calls, manager };
}

describe("token manager cache hits", () => {
  it("key a scopes array changed in place by its new contents, not by the last key used", async () => {
    const { calls, manager } = setup();
    const scopes = ["https://a/.default"];
    const first = await manager.acquireToken({ ...base, scopes });
    scopes[0] = "https://b/.default";
    const second = await manager.acquireToken({ ...base, scopes });
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(second.scopes).toEqual(["https://b/.default"]);
    scopes[0] = "https://a/.default";
    const third = await manager.acquireToken({ ...base, scopes });
    expect(third.accessToken).toBe(first.accessToken);
    expect(third.metadata.tokenSource).toBe("cache");
    expect(calls).toHaveLength(2);
  });

  it("tell apart requests that differ only in client id, authority or token type", async () => {
    const { calls, manager } = setup();
    const scopes = ["https://a/.default"];
    await manager.acquireToken({ ...base, scopes });
    await manager.acquireToken({ ...base, clientId: "other-app", scopes });
    await manager.acquireToken({ ...base, authority: "https://login.example/other", scopes });
    await manager.acquireToken({ ...base, scopes });
    expect(calls).toHaveLength(3);
  });

  it("hand out a frozen copy of the scopes that neither the caller nor a result can change", async () => {
    const { manager } = setup();
    const scopes = ["https://a/.default", "https://a/user.read"];
    const first = await manager.acquireToken({ ...base, scopes });
    expect(first.scopes).not.toBe(scopes);
    expect(Object.isFrozen(first.scopes)).toBe(true);
    expect(() => (first.scopes as string[]).push("x")).toThrow(TypeError);
    scopes.push("https://a/more");
    const hit = await manager.acquireToken({
      ...base,
      scopes: ["https://a/user.read", "https://a/.default"],
    });
    expect(hit.metadata.tokenSource).toBe("cache");
    expect(hit.scopes).toEqual(["https://a/.default", "https://a/user.read"]);
    // Dates are the caller's own: changing one does not move the cached expiry.
    hit.expiresOn.setTime(0);
    const again = await manager.acquireToken({
      ...base,
      scopes: ["https://a/.default", "https://a/user.read"],
    });
    expect(again.expiresOn.getTime()).toBe(first.expiresOn.getTime());
  });

  it("check expiry against `now` when the caller passes its clock reading, and the clock otherwise", async () => {
    const { clock, calls, manager } = setup();
    const scopes = ["https://a/.default"];
    const first = await manager.acquireToken({ ...base, scopes });
    const lastServable = first.expiresOn.getTime() - EXPIRY_BUFFER_MS - 1;
    // `now` is an internal hint (TokenManagerCall), passed as certbound's own credentials do.
    const hitCall: TokenManagerCall = { ...base, scopes, now: lastServable };
    const hit = await manager.acquireToken(hitCall);
    expect(hit.metadata.tokenSource).toBe("cache");
    expect(hit.metadata.durationMs).toBe(0);
    const missCall: TokenManagerCall = { ...base, scopes, now: lastServable + 1 };
    const miss = await manager.acquireToken(missCall);
    expect(miss.metadata.tokenSource).toBe("identity_provider");
    expect(calls).toHaveLength(2);
    // Without `now` the injected clock decides.
    await clock.advance(3600_000);
    expect((await manager.acquireToken({ ...base, scopes })).metadata.tokenSource).toBe("identity_provider");
  });

  it("give every hit its own UUID-shaped correlation id, across the counter's rollover", async () => {
    const { manager } = setup();
    const request = { ...base, scopes: ["https://a/.default"] };
    await manager.acquireToken(request);
    const ids = new Set<string>();
    for (let i = 0; i < 70_000; i++) ids.add((await manager.acquireToken(request)).metadata.correlationId);
    expect(ids.size).toBe(70_000);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    const given = await manager.acquireToken({ ...request, correlationId: "mine" });
    expect(given.metadata.correlationId).toBe("mine");
  });

  it("reject (never throw) when the call is refused before the lookup", () => {
    const { manager } = setup();
    const controller = new AbortController();
    controller.abort();
    let promise: Promise<unknown> | undefined;
    expect(() => {
      promise = manager.acquireToken({ ...base, scopes: ["https://a/.default"], signal: controller.signal });
    }).not.toThrow();
    return expect(promise).rejects.toMatchObject({ code: "aborted" });
  });

  it("bypass a synchronous store that throws on the lookup (never throw, never reject)", async () => {
    const manager = createTokenManager({
      fetcher: async () => ({
        accessToken: "t",
        tokenType: "Bearer",
        expiresOn: new Date(Date.now() + 3600_000),
      }),
      cache: {
        get() {
          throw new Error("store down");
        },
        set() {},
      },
    });
    let promise: Promise<{ accessToken: string; metadata: { tokenSource: string } }> | undefined;
    expect(() => {
      promise = manager.acquireToken({ ...base, scopes: ["https://a/.default"] });
    }).not.toThrow();
    await expect(promise).resolves.toMatchObject({
      accessToken: "t",
      metadata: { tokenSource: "identity_provider" },
    });
  });
});
