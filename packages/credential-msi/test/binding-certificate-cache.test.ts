import type { BindingCertificate } from "@certbound/core";
import { EXPIRY_BUFFER_MS } from "@certbound/core/credential-kit";
import { createTestClock } from "@certbound/testing";
import { describe, expect, it } from "vitest";
import { BindingCertificateCache, type MintedCertificate } from "../src/binding-certificate-cache";
import { testKeyPair } from "./helpers/keys";

const HOUR = 3600_000;

function minted(x5tS256: string, notAfter: number): MintedCertificate {
  const binding: BindingCertificate = {
    certificatePem: "",
    privateKey: testKeyPair().privateKey,
    x5tS256,
    notAfter: new Date(notAfter),
  };
  return { binding, clientId: "c", tenantId: "t", tokenEndpoint: "https://mtls/t/oauth2/v2.0/token" };
}

describe("BindingCertificateCache", () => {
  it("reuses a certificate for new tokens while more than 24 hours remain, then mints a new one", async () => {
    const clock = createTestClock();
    const cache = new BindingCertificateCache(clock);
    let mints = 0;
    const mint = async () => minted(`c${++mints}`, clock.now() + 7 * 24 * HOUR);
    expect((await cache.get("k", mint)).binding.x5tS256).toBe("c1");
    await clock.advance(6 * 24 * HOUR - 1);
    expect(cache.peek("k")?.binding.x5tS256).toBe("c1");
    expect((await cache.get("k", mint)).binding.x5tS256).toBe("c1");
    await clock.advance(1);
    // Less than 24 hours left: still the current certificate (its tokens are served), but a new
    // token gets a new certificate, which then becomes the current one.
    expect(cache.peek("k")?.binding.x5tS256).toBe("c1");
    expect((await cache.get("k", mint)).binding.x5tS256).toBe("c2");
    expect(cache.peek("k")?.binding.x5tS256).toBe("c2");
    expect(mints).toBe(2);
  });

  // Issue 13 item 11: a certificate with less than 24 hours left is named current until it is about
  // to expire (the token cache's EXPIRY_BUFFER_MS), then forgotten.
  it("names a short-lived certificate current until EXPIRY_BUFFER_MS before notAfter", async () => {
    const clock = createTestClock();
    const cache = new BindingCertificateCache(clock);
    const notAfter = clock.now() + 12 * HOUR;
    await cache.get("k", async () => minted("short", notAfter));
    await clock.advance(notAfter - EXPIRY_BUFFER_MS - clock.now() - 1);
    expect(cache.peek("k")?.binding.x5tS256).toBe("short");
    await clock.advance(1);
    expect(cache.peek("k")).toBeUndefined();
  });

  it("shares one mint between concurrent callers and keeps keys apart", async () => {
    const cache = new BindingCertificateCache(createTestClock());
    let mints = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const mint = async () => {
      const id = ++mints;
      await gate;
      return minted(`m${id}`, Date.UTC(2027, 0, 1));
    };
    const all = Promise.all(Array.from({ length: 100 }, () => cache.get("a", mint)));
    const other = cache.get("b", mint);
    release();
    const results = await all;
    expect(new Set(results.map((r) => r.binding.x5tS256))).toEqual(new Set(["m1"]));
    expect((await other).binding.x5tS256).toBe("m2");
    expect(mints).toBe(2);
  });

  it("drop forgets only the named certificate; a failed mint is not remembered", async () => {
    const cache = new BindingCertificateCache(createTestClock());
    await cache.get("k", async () => minted("old", Date.UTC(2027, 0, 1)));
    cache.drop("k", "other");
    expect(cache.peek("k")?.binding.x5tS256).toBe("old");
    cache.drop("k", "old");
    expect(cache.peek("k")).toBeUndefined();
    await expect(cache.get("k", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect((await cache.get("k", async () => minted("new", Date.UTC(2027, 0, 1)))).binding.x5tS256).toBe(
      "new",
    );
    cache.clear();
    expect(cache.peek("k")).toBeUndefined();
  });
});
