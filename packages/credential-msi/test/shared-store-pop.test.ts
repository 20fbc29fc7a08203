// Issue 16: a managed identity's PoP token is bound to a key that lives in this process only, so it
// reaches a shared store marked `{ shareable: false }` (a store shared between processes keeps it
// local) and its acquisition is never coordinated with other processes.
import type { CacheStore, CacheWriteOptions, HttpTransport } from "@certbound/core";
import { createMemoryCacheStore } from "@certbound/core";
import { type Emulator, startEmulator } from "@certbound/emulator";
import { createUndiciTransport } from "@certbound/http-undici";
import { createTestClock, type TestClock } from "@certbound/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createManagedIdentityClient } from "../src/index";
import { testKeyProvider } from "./helpers/keys";

let clock: TestClock;
let emu: Emulator;
let transport: HttpTransport;

beforeAll(async () => {
  clock = createTestClock({ now: Date.now() });
  emu = await startEmulator({ now: () => clock.now() });
  transport = createUndiciTransport();
});
afterAll(async () => {
  await transport?.close?.();
  await emu?.close();
});

it("writes its PoP entries with { shareable: false } and never coordinates them between processes", async () => {
  const memory = createMemoryCacheStore();
  const writes: (CacheWriteOptions | undefined)[] = [];
  const cache: CacheStore = {
    get: (k) => memory.get(k),
    set: (k, v, ttl, options) => {
      writes.push(options);
      memory.set(k, v, ttl);
    },
    coordinate: () => Promise.reject(new Error("a process-only token must not be coordinated")),
  };
  const msi = createManagedIdentityClient({
    transport,
    env: emu.managedIdentityEnvironment("imds"),
    ca: emu.caCertificatePem,
    mtlsAuthorityHost: emu.mtlsAuthorityHost,
    clock,
    keyProvider: testKeyProvider(),
    fileExists: () => false,
    cache,
  });
  try {
    const pop = await msi.acquireToken({ resource: emu.resourceUrl, mtlsProofOfPossession: true });
    expect(pop.tokenType).toBe("mtls_pop");
    expect(writes).toEqual([{ shareable: false }]);
  } finally {
    await msi.close();
  }
});
