import { generateKeyPairSync } from "node:crypto";
import type { KeyProvider, ManagedIdentityKeyPair } from "../../src/key-provider";

// RSA-2048 generation costs ~100 ms on the CI machine: one key per test process is plenty for
// tests that do not check key rotation.
let shared: ManagedIdentityKeyPair | undefined;

/** One RSA-2048 pair shared by the tests of a file. */
export function testKeyPair(): ManagedIdentityKeyPair {
  shared ??= generateKeyPairSync("rsa", { modulusLength: 2048 });
  return shared;
}

/** A key provider handing out the shared pair, counting calls. */
export function testKeyProvider(): KeyProvider & { readonly calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async getKey(identityKey) {
      calls.push(identityKey);
      return testKeyPair();
    },
  };
}
