import { createTestClock } from "@certbound/testing";
import { createManagedIdentityClient, type ManagedIdentityClientOptions } from "../../src/index";
import { testKeyProvider } from "./keys";

/**
 * A managed identity client for unit tests: an empty environment (so IMDS is the source), no Azure
 * Arc agent on disk, the shared test key, and a test clock that starts now.
 */
export function testClient(
  transport: ManagedIdentityClientOptions["transport"],
  extra: Partial<ManagedIdentityClientOptions> = {},
) {
  const clock = createTestClock({ now: Date.now() });
  const msi = createManagedIdentityClient({
    transport,
    env: {},
    fileExists: () => false,
    keyProvider: testKeyProvider(),
    clock,
    ...extra,
  });
  return { msi, clock };
}
