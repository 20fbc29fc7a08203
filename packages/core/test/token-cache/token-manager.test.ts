import { type BindingCertificate, createMemoryCacheStore, isCertboundError } from "@certbound/core";
import {
  type AcquiredToken,
  abortedError,
  createCertificateAuthority,
  createTokenManager,
  EXPIRY_BUFFER_MS,
  type FetchRequest,
} from "@certbound/core/credential-kit";
import { createTestClock } from "@certbound/testing";
import { describe, expect, it } from "vitest";

const ca = createCertificateAuthority();
const certA: BindingCertificate = ca.issue({ commonName: "a" });
const certB: BindingCertificate = ca.issue({ commonName: "b" });
const base = { clientId: "app", authority: "https://login.example/tenant", scopes: ["https://r/.default"] };

/** A source whose calls are counted and, when `gate` is used, held until released. */
function countingSource(
  clock: { now(): number },
  make: (n: number, req: FetchRequest) => Partial<AcquiredToken> = () => ({}),
) {
  const calls: FetchRequest[] = [];
  let release: (() => void) | undefined;
  let gate: Promise<void> | undefined;
  return {
    calls,
    hold() {
      gate = new Promise<void>((r) => {
        release = r;
      });
    },
    release: () => release?.(),
    source: async (req: FetchRequest): Promise<AcquiredToken> => {
      calls.push(req);
      const n = calls.length;
      if (gate) await gate;
      return {
        accessToken: `token-${n}`,
        tokenType: req.tokenType,
        expiresOn: new Date(clock.now() + 3600_000),
        ...(req.tokenType === "mtls_pop" ? { bindingCertificate: certA } : {}),
        ...make(n, req),
      };
    },
  };
}

describe("token manager", () => {
  it("makes exactly one source call for 1,000 concurrent acquisitions of one key", async () => {
    const clock = createTestClock();
    const s = countingSource(clock);
    s.hold();
    const manager = createTokenManager({ fetcher: s.source, clock });
    const all = Array.from({ length: 1000 }, () => manager.acquireToken(base));
    await Promise.resolve();
    s.release();
    const results = await Promise.all(all);
    expect(s.calls).toHaveLength(1);
    expect(new Set(results.map((r) => r.accessToken))).toEqual(new Set(["token-1"]));
    expect(results.every((r) => r.metadata.tokenSource === "identity_provider")).toBe(true);
    const again = await manager.acquireToken(base);
    expect(again.metadata.tokenSource).toBe("cache");
    expect(s.calls).toHaveLength(1);
  });

  it("lets unrelated keys proceed in parallel", async () => {
    const clock = createTestClock();
    const held: Array<() => void> = [];
    const calls: string[] = [];
    const manager = createTokenManager({
      clock,
      fetcher: async (req) => {
        calls.push(req.scopes[0] as string);
        if (req.scopes[0] === "slow") await new Promise<void>((r) => held.push(r));
        return {
          accessToken: req.scopes[0] as string,
          tokenType: "Bearer",
          expiresOn: new Date(clock.now() + 3600_000),
        };
      },
    });
    const slow = manager.acquireToken({ ...base, scopes: ["slow"] });
    const fast = await manager.acquireToken({ ...base, scopes: ["fast"] });
    expect(fast.accessToken).toBe("fast");
    expect(calls).toEqual(["slow", "fast"]);
    held[0]?.();
    expect((await slow).accessToken).toBe("slow");
  });

  it("ends only the aborting caller's wait; the others get the shared result", async () => {
    const clock = createTestClock();
    const s = countingSource(clock);
    s.hold();
    const manager = createTokenManager({ fetcher: s.source, clock });
    const controller = new AbortController();
    const aborted = manager.acquireToken({ ...base, signal: controller.signal });
    const others = [manager.acquireToken(base), manager.acquireToken(base)];
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: "aborted" });
    s.release();
    const results = await Promise.all(others);
    expect(results.map((r) => r.accessToken)).toEqual(["token-1", "token-1"]);
    expect(s.calls).toHaveLength(1);
    expect(s.calls[0]?.signal.aborted).toBe(false);
  });

  it("rejects at once when the signal is already aborted, without calling the source", async () => {
    const clock = createTestClock();
    const s = countingSource(clock);
    const manager = createTokenManager({ fetcher: s.source, clock });
    await expect(manager.acquireToken({ ...base, signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: "aborted",
    });
    expect(s.calls).toHaveLength(0);
  });

  it("never serves a PoP token bound to certificate A for certificate B or for Bearer", async () => {
    const clock = createTestClock();
    const s = countingSource(clock, (_n, req) =>
      req.tokenType === "mtls_pop" ? { bindingCertificate: s.calls.length === 2 ? certB : certA } : {},
    );
    const manager = createTokenManager({ fetcher: s.source, clock });
    const popA = await manager.acquireToken({ ...base, tokenType: "mtls_pop", x5tS256: certA.x5tS256 });
    expect(popA.bindingCertificate?.x5tS256).toBe(certA.x5tS256);
    const popB = await manager.acquireToken({ ...base, tokenType: "mtls_pop", x5tS256: certB.x5tS256 });
    expect(popB.metadata.tokenSource).toBe("identity_provider");
    expect(popB.bindingCertificate?.x5tS256).toBe(certB.x5tS256);
    const bearer = await manager.acquireToken({ ...base, tokenType: "Bearer" });
    expect(bearer.metadata.tokenSource).toBe("identity_provider");
    expect(bearer.tokenType).toBe("Bearer");
    expect(bearer.bindingCertificate).toBeUndefined();
    expect(s.calls).toHaveLength(3);
    // And each is now a hit for its own key only.
    expect(
      (await manager.acquireToken({ ...base, tokenType: "mtls_pop", x5tS256: certA.x5tS256 })).accessToken,
    ).toBe(popA.accessToken);
    expect((await manager.acquireToken(base)).accessToken).toBe(bearer.accessToken);
  });

  it("treats a token inside its 5-minute buffer as a miss", async () => {
    const clock = createTestClock();
    const s = countingSource(clock);
    const manager = createTokenManager({ fetcher: s.source, clock });
    await manager.acquireToken(base);
    await clock.advance(3600_000 - EXPIRY_BUFFER_MS - 1);
    expect((await manager.acquireToken(base)).metadata.tokenSource).toBe("cache");
    await clock.advance(1);
    const renewed = await manager.acquireToken(base);
    expect(renewed.metadata.tokenSource).toBe("identity_provider");
    expect(renewed.accessToken).toBe("token-2");
  });

  it("refreshes once in the background past refresh_in while callers get the cached token at once", async () => {
    const clock = createTestClock({ random: 0.5 }); // zero jitter
    const s = countingSource(clock, () => ({
      expiresOn: new Date(clock.now() + 4 * 3600_000),
      refreshOn: new Date(clock.now() + 2 * 3600_000),
    }));
    const manager = createTokenManager({ fetcher: s.source, clock });
    const first = await manager.acquireToken(base);
    expect(first.refreshOn?.getTime()).toBe(clock.now() + 2 * 3600_000);
    await clock.advance(2 * 3600_000);
    s.hold();
    const during = await Promise.all(Array.from({ length: 50 }, () => manager.acquireToken(base)));
    expect(during.every((r) => r.accessToken === "token-1" && r.metadata.tokenSource === "cache")).toBe(true);
    expect(s.calls).toHaveLength(2);
    s.release();
    await new Promise<void>((r) => setImmediate(r));
    const after = await manager.acquireToken(base);
    expect(after.accessToken).toBe("token-2");
    expect(after.metadata.tokenSource).toBe("cache");
  });

  it("applies refresh jitter of up to 5 minutes either way from the injected random", async () => {
    for (const [random, offset] of [
      [0, -300_000],
      [0.75, 150_000],
    ] as const) {
      const clock = createTestClock({ random });
      const start = clock.now();
      const manager = createTokenManager({
        clock,
        fetcher: async () => ({
          accessToken: "t",
          tokenType: "Bearer",
          expiresOn: new Date(start + 4 * 3600_000),
          refreshOn: new Date(start + 3600_000),
        }),
      });
      const result = await manager.acquireToken(base);
      expect(result.refreshOn?.getTime()).toBe(start + 3600_000 + offset);
    }
  });

  it("keeps serving the cached token when the background refresh fails", async () => {
    const clock = createTestClock();
    let fail = false;
    let calls = 0;
    const manager = createTokenManager({
      clock,
      fetcher: async () => {
        calls++;
        if (fail) throw new Error("identity provider down");
        return {
          accessToken: `t${calls}`,
          tokenType: "Bearer",
          expiresOn: new Date(clock.now() + 4 * 3600_000),
          refreshOn: new Date(clock.now() + 3600_000),
        };
      },
    });
    await manager.acquireToken(base);
    await clock.advance(2 * 3600_000);
    fail = true;
    expect((await manager.acquireToken(base)).accessToken).toBe("t1");
    await new Promise<void>((r) => setImmediate(r));
    expect((await manager.acquireToken(base)).accessToken).toBe("t1");
    expect(calls).toBeGreaterThanOrEqual(2);
  });

  it("forceRefresh skips the cache read and stores the new token", async () => {
    const clock = createTestClock();
    const s = countingSource(clock);
    const manager = createTokenManager({ fetcher: s.source, clock });
    await manager.acquireToken(base);
    const forced = await manager.acquireToken({ ...base, forceRefresh: true });
    expect(forced.accessToken).toBe("token-2");
    expect(forced.metadata.tokenSource).toBe("identity_provider");
    expect((await manager.acquireToken(base)).accessToken).toBe("token-2");
  });

  // Issue 13 item 6. Follows MSAL.NET src/client/Microsoft.Identity.Client/Internal/Requests/ClientCredentialRequest.cs
  // (claims skip the cache lookup, the response is still written with CacheTokenResponseAndCreateAuthenticationResultAsync)
  // and tests/Microsoft.Identity.Test.Unit/CoreTests/OAuth2Tests/ClaimsTest.cs
  // AcquireTokenForClient_BypassesCacheForAccessTokens_IfClaimsUsed_Async.
  it("claims skip the cache read and are not shared, but their token is stored for later plain calls", async () => {
    const clock = createTestClock();
    const s = countingSource(clock);
    const manager = createTokenManager({ fetcher: s.source, clock });
    await manager.acquireToken(base);
    const claims = '{"access_token":{"xms_cc":{"values":["cp1"]}}}';
    s.hold();
    const both = [manager.acquireToken({ ...base, claims }), manager.acquireToken({ ...base, claims })];
    await Promise.resolve();
    s.release();
    const [withClaims, again] = await Promise.all(both);
    // Each claims call went to the source with its challenge: neither read the cache nor waited on the other.
    expect(s.calls.slice(1).map((c) => c.claims)).toEqual([claims, claims]);
    expect(withClaims?.metadata.tokenSource).toBe("identity_provider");
    expect(again?.metadata.tokenSource).toBe("identity_provider");
    // The old (possibly revoked) token-1 is never served again.
    const plain = await manager.acquireToken(base);
    expect(plain.accessToken).not.toBe("token-1");
    expect(plain.metadata.tokenSource).toBe("cache");
    expect(s.calls).toHaveLength(3);
  });

  it("does not cache a failed acquisition", async () => {
    const clock = createTestClock();
    let n = 0;
    const manager = createTokenManager({
      clock,
      fetcher: async () => {
        n++;
        if (n === 1) throw new Error("boom");
        return { accessToken: "ok", tokenType: "Bearer", expiresOn: new Date(clock.now() + 3600_000) };
      },
    });
    await expect(manager.acquireToken(base)).rejects.toThrow("boom");
    expect((await manager.acquireToken(base)).accessToken).toBe("ok");
  });

  it("refuses a source that downgrades PoP to Bearer or drops the binding certificate", async () => {
    const clock = createTestClock();
    const downgrade = createTokenManager({
      clock,
      fetcher: async () => ({
        accessToken: "x",
        tokenType: "Bearer",
        expiresOn: new Date(clock.now() + 3600_000),
      }),
    });
    const err = await downgrade.acquireToken({ ...base, tokenType: "mtls_pop" }).catch((e: unknown) => e);
    expect(isCertboundError(err) && err.code).toBe("token_type_mismatch");
    expect(String((err as Error).message)).not.toContain('"x"');
    const unbound = createTokenManager({
      clock,
      fetcher: async () => ({
        accessToken: "x",
        tokenType: "mtls_pop",
        expiresOn: new Date(clock.now() + 3600_000),
      }),
    });
    await expect(unbound.acquireToken({ ...base, tokenType: "mtls_pop" })).rejects.toMatchObject({
      code: "binding_certificate_missing",
    });
  });

  it("works with an asynchronous cache store and evicts on request", async () => {
    const clock = createTestClock();
    const s = countingSource(clock);
    const memory = createMemoryCacheStore();
    const manager = createTokenManager({
      fetcher: s.source,
      clock,
      cache: {
        get: async (k) => memory.get(k),
        set: async (k, v, ttlMs) => memory.set(k, v, ttlMs),
        delete: async (k) => memory.delete?.(k),
      },
    });
    await manager.acquireToken(base);
    expect((await manager.acquireToken(base)).metadata.tokenSource).toBe("cache");
    await manager.evict({ ...base, tokenType: "Bearer" });
    expect((await manager.acquireToken(base)).metadata.tokenSource).toBe("identity_provider");
  });

  it("aborts the shared acquisition's signal on close()", async () => {
    const clock = createTestClock();
    const s = countingSource(clock);
    s.hold();
    const manager = createTokenManager({ fetcher: s.source, clock });
    const pending = manager.acquireToken(base);
    await Promise.resolve();
    await Promise.resolve();
    manager.close();
    expect(s.calls[0]?.signal.aborted).toBe(true);
    s.release();
    await pending;
  });

  it("close() ends a wait in flight with `aborted` saying it was closed, not a caller's AbortSignal", async () => {
    const clock = createTestClock();
    // A source whose request never answers: it ends the way every certbound wait does when the
    // manager's signal fires (abortedError of that signal).
    const source = (request: { signal: AbortSignal }) =>
      new Promise<never>((_resolve, reject) => {
        request.signal.addEventListener("abort", () => reject(abortedError(request.signal)));
      });
    for (const [message, expected] of [
      [undefined, "The token manager was closed while this call was in flight; create a new one."],
      ["@my/app: the client was closed.", "@my/app: the client was closed."],
    ] as const) {
      const manager = createTokenManager({ fetcher: source, clock });
      const pending = manager.acquireToken(base).catch((e: unknown) => e);
      await Promise.resolve();
      await Promise.resolve();
      manager.close(message);
      expect(await pending).toMatchObject({ name: "CertboundError", code: "aborted", message: expected });
    }
  });

  it("validates its options", () => {
    expect(() => createTokenManager({ fetcher: 42 as never })).toThrow(/fetcher/);
  });
});
