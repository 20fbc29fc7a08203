// An app that gets a token, and later gets it again from the cache after its refresh time: that
// starts a background refresh, which the endpoint (STUB_URL) answers with 500. Nobody awaits the
// refresh, so its retry wait must not keep the finished process alive.
import { type Clock, systemClock } from "@certbound/core";
import { createManagedIdentityClient } from "@certbound/credential-msi";
import { createUndiciTransport } from "@certbound/http-undici";

let offset = 0;
// Real waits (a referenced one would hold the process for the 1 s back-off and its retries); the
// time of day is moved forward by the app instead of waiting for the refresh time.
const clock: Clock = {
  now: () => Date.now() + offset,
  random: () => 0.5,
  sleep: (ms, signal) => systemClock.sleep(ms, signal),
};

async function main(): Promise<void> {
  const msi = createManagedIdentityClient({
    transport: createUndiciTransport(),
    env: { IDENTITY_ENDPOINT: process.env.STUB_URL, IDENTITY_HEADER: "stub-header" },
    fileExists: () => false,
    clock,
  });
  const first = await msi.acquireToken({ resource: "https://vault.azure.net" });
  offset += 120_000; // past refresh_in (60 s), well before expiry (3600 s)
  const second = await msi.acquireToken({ resource: "https://vault.azure.net" });
  console.log(`first: ${first.metadata.tokenSource}, second: ${second.metadata.tokenSource}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
