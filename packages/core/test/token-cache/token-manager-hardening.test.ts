// Outside review (issue 12, "Cache and refresh"): what a caller, a failing identity provider or a
// failing cache store could do to the token manager.
import {
  type BindingCertificate,
  type CacheStore,
  createMemoryCacheStore,
  type LogLevel,
} from "@certbound/core";
import {
  type AcquiredToken,
  createBindingCertificate,
  createCertificateAuthority,
  createTokenManager,
  type FetchRequest,
} from "@certbound/core/credential-kit";
import { createTestClock } from "@certbound/testing";
import { describe, expect, it } from "vitest";

const ca = createCertificateAuthority();
const issued = ca.issue({ commonName: "bound" });
const base = { clientId: "app", authority: "https://login.example/tenant", scopes: ["https://r/.default"] };
const pop = { ...base, tokenType: "mtls_pop" as const, x5tS256: issued.x5tS256 };
const flush = () => new Promise<void>((r) => setImmediate(r));

function recordingLogger() {
  const lines: { level: LogLevel; message: string; fields: unknown }[] = [];
  return {
    lines,
    logger: {
      level: "verbose" as const,
      log: (level: LogLevel, message: string, fields?: unknown) => lines.push({ level, message, fields }),
    },
  };
}

describe("results cannot corrupt the cache (item 5)", () => {
  it("every hit shares one frozen binding certificate whose notAfter cannot be changed", async () => {
    const clock = createTestClock();
    const binding = createBindingCertificate({
      certificate: issued.certificatePem,
      privateKey: issued.privateKey,
    });
    const manager = createTokenManager({
      clock,
      fetcher: async () => ({
        accessToken: "t",
        tokenType: "mtls_pop",
        expiresOn: new Date(clock.now() + 3600_000),
        bindingCertificate: binding,
      }),
    });
    const first = await manager.acquireToken(pop);
    const cert = first.bindingCertificate as BindingCertificate;
    const notAfter = cert.notAfter.getTime();
    expect(Object.isFrozen(cert)).toBe(true);
    expect(() => {
      (cert as { certificatePem: string }).certificatePem = "garbage";
    }).toThrow(TypeError);
    expect(() => {
      (cert as { x5tS256: string }).x5tS256 = "forged";
    }).toThrow(TypeError);
    for (const mutate of [
      (d: Date) => d.setTime(0),
      (d: Date) => d.setFullYear(1999),
      (d: Date) => d.setUTCHours(0),
      (d: Date) => d.setMonth(0),
    ]) {
      expect(() => mutate(cert.notAfter)).toThrow(/cannot be changed/);
    }
    expect(() => {
      (first.scopes as string[]).push("https://evil/.default");
    }).toThrow(TypeError);
    // A result's own dates are its own: changing them changes no other result.
    first.expiresOn.setTime(0);
    const hit = await manager.acquireToken(pop);
    expect(hit.metadata.tokenSource).toBe("cache");
    expect(hit.bindingCertificate).toBe(cert);
    expect(hit.bindingCertificate?.certificatePem).toBe(issued.certificatePem);
    expect(hit.bindingCertificate?.notAfter.getTime()).toBe(notAfter);
    expect(hit.expiresOn.getTime()).toBe(clock.now() + 3600_000);
    expect(hit.scopes).toEqual(["https://r/.default"]);
    // A copy is an ordinary Date.
    const copy = new Date(cert.notAfter);
    copy.setTime(0);
    expect(copy.getTime()).toBe(0);
  });

  it("a custom source's mutable certificate is stored as a frozen copy; the source's own object stays its own", async () => {
    const clock = createTestClock();
    const own: BindingCertificate = {
      certificatePem: issued.certificatePem,
      privateKey: issued.privateKey,
      x5tS256: issued.x5tS256,
      notAfter: new Date(issued.notAfter),
    };
    const manager = createTokenManager({
      clock,
      fetcher: async () => ({
        accessToken: "t",
        tokenType: "mtls_pop",
        expiresOn: new Date(clock.now() + 3600_000),
        bindingCertificate: own,
      }),
    });
    const result = await manager.acquireToken(pop);
    expect(result.bindingCertificate).not.toBe(own);
    expect(result.bindingCertificate).toMatchObject({
      certificatePem: own.certificatePem,
      x5tS256: own.x5tS256,
    });
    expect(() => result.bindingCertificate?.notAfter.setTime(0)).toThrow(TypeError);
    expect(Object.isFrozen(own)).toBe(false);
    expect((await manager.acquireToken(pop)).bindingCertificate).toBe(result.bindingCertificate);
  });
});

describe("a failed background refresh backs off (item 6)", () => {
  function failingAfterFirst(clock: { now(): number }) {
    const calls: FetchRequest[] = [];
    return {
      calls,
      source: async (req: FetchRequest): Promise<AcquiredToken> => {
        calls.push(req);
        if (calls.length > 1) throw Object.assign(new Error("IMDS answered 400"), { code: "service_error" });
        return {
          accessToken: "t1",
          tokenType: "Bearer",
          expiresOn: new Date(clock.now() + 24 * 3600_000),
          refreshOn: new Date(clock.now() + 3600_000),
        };
      },
    };
  }

  it("500 hits against a failing identity provider make a bounded number of requests", async () => {
    const clock = createTestClock({ random: 0.5 });
    const s = failingAfterFirst(clock);
    const manager = createTokenManager({ fetcher: s.source, clock });
    await manager.acquireToken(base);
    await clock.advance(3600_000);
    // 500 hits, 100 ms apart (50 s), each given time for its refresh to fail.
    for (let i = 0; i < 500; i++) {
      const hit = await manager.acquireToken(base);
      expect(hit.accessToken).toBe("t1");
      await flush();
      await clock.advance(100);
    }
    // Refreshes at 0, 10 s, 30 s (after waits of 10 s and 20 s); the next is due at 70 s.
    expect(s.calls.length - 1).toBe(3);
  });

  it("waits grow to the cap, one refresh request per key per window, and reset after a success", async () => {
    const clock = createTestClock({ random: 0.5 });
    let fail = true;
    let n = 0;
    const manager = createTokenManager({
      clock,
      refreshBackoff: { initialMs: 1000, maxMs: 4000 },
      fetcher: async () => {
        n++;
        if (n > 1 && fail) throw new Error("down");
        return {
          accessToken: `t${n}`,
          tokenType: "Bearer",
          expiresOn: new Date(clock.now() + 24 * 3600_000),
          refreshOn: new Date(clock.now() + 3600_000),
        };
      },
    });
    await manager.acquireToken(base);
    await clock.advance(3600_000);
    const times: number[] = [];
    const start = clock.now();
    let seen = n;
    for (let t = 0; t <= 20_000; t += 250) {
      await manager.acquireToken(base);
      await flush();
      if (n !== seen) times.push(clock.now() - start);
      seen = n;
      await clock.advance(250);
    }
    // Waits of 1 s, 2 s, 4 s, then 4 s (the cap).
    expect(times).toEqual([0, 1000, 3000, 7000, 11_000, 15_000, 19_000]);
    fail = false;
    await clock.advance(4000);
    await manager.acquireToken(base);
    await flush();
    expect((await manager.acquireToken(base)).accessToken).toBe(`t${n}`);
    // The success ended the back-off: the next failing refresh waits the first step again.
    fail = true;
    await clock.advance(3600_000);
    const again: number[] = [];
    const restart = clock.now();
    seen = n;
    for (let t = 0; t <= 2000; t += 250) {
      await manager.acquireToken(base);
      await flush();
      if (n !== seen) again.push(clock.now() - restart);
      seen = n;
      await clock.advance(250);
    }
    expect(again).toEqual([0, 1000]);
  });

  it("refuses back-off options that are not whole milliseconds in range", () => {
    for (const refreshBackoff of [
      { initialMs: 0 },
      { initialMs: 1.5 },
      { maxMs: 2 ** 31 },
      { initialMs: 5000, maxMs: 1000 },
    ]) {
      expect(() =>
        createTokenManager({ fetcher: async () => ({}) as AcquiredToken, refreshBackoff }),
      ).toThrow(expect.objectContaining({ code: "invalid_options" }));
    }
  });
});

describe("a failing cache store does not fail acquisitions (item 8)", () => {
  const failures = {
    "sync get throws": { get: () => throwIt(), set: () => {} },
    "async get rejects": { get: async () => throwIt(), set: async () => {} },
    "sync set throws": { get: () => undefined, set: () => throwIt() },
    "async set rejects": { get: async () => undefined, set: async () => throwIt() },
  } satisfies Record<string, CacheStore>;

  function throwIt(): never {
    // A store's error may quote the entry it was given: it must never reach a log line.
    throw new Error("connection lost while writing eyJ.SECRET-TOKEN");
  }

  it.each(Object.entries(failures))(
    "%s: the token comes from the source, logged once per burst",
    async (_, store) => {
      const clock = createTestClock();
      const { lines, logger } = recordingLogger();
      let n = 0;
      const manager = createTokenManager({
        clock,
        logger,
        cache: store,
        fetcher: async () => ({
          accessToken: `eyJ.SECRET-TOKEN-${++n}`,
          tokenType: "Bearer",
          expiresOn: new Date(clock.now() + 3600_000),
        }),
      });
      for (let i = 0; i < 20; i++) {
        const result = await manager.acquireToken(base);
        expect(result.accessToken).toMatch(/^eyJ\.SECRET-TOKEN-/);
      }
      await manager.evict({ ...base, tokenType: "Bearer" });
      const storeLines = () => lines.filter((l) => l.message.includes("cache store failed"));
      expect(storeLines()).toHaveLength(1);
      expect(storeLines()[0]?.level).toBe("warn");
      // Another burst a minute later is logged again, with the count of failures it sums up.
      await clock.advance(60_000);
      await manager.acquireToken(base);
      expect(storeLines()).toHaveLength(2);
      expect(storeLines()[1]?.fields).toMatchObject({ failures: expect.any(Number) });
      expect((storeLines()[1]?.fields as { failures?: number } | undefined)?.failures).toBeGreaterThan(1);
      expect(JSON.stringify(lines)).not.toContain("SECRET");
    },
  );

  it("a store that throws on delete does not fail evict", async () => {
    const inner = createMemoryCacheStore();
    const store: CacheStore = {
      get: (k) => inner.get(k),
      set: (k, v, ttlMs) => inner.set(k, v, ttlMs),
      delete: () => Promise.reject(new Error("down")),
    };
    const manager = createTokenManager({
      cache: store,
      fetcher: async () => ({
        accessToken: "t",
        tokenType: "Bearer",
        expiresOn: new Date(Date.now() + 3600_000),
      }),
    });
    await manager.acquireToken(base);
    await expect(manager.evict({ ...base, tokenType: "Bearer" })).resolves.toBeUndefined();
  });
});

describe("an expired token is an error (item 10)", () => {
  it("a source returning a token that has already expired fails with invalid_token_response, and nothing is cached", async () => {
    const clock = createTestClock();
    let n = 0;
    const manager = createTokenManager({
      clock,
      fetcher: async () => ({
        accessToken: "t",
        tokenType: "Bearer",
        expiresOn: new Date(clock.now() - (n++ === 0 ? 1 : 0)),
      }),
    });
    for (let i = 0; i < 2; i++) {
      await expect(manager.acquireToken(base)).rejects.toMatchObject({ code: "invalid_token_response" });
    }
  });
});
