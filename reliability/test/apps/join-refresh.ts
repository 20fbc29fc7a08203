// An app that forces a refresh while a background refresh of the same token is in its retry
// back-off: the forced call joins the refresh and awaits it, so the process must stay alive for it
// (the refresh's own waits do not hold the process) and print the new token.
import { type Clock, systemClock } from "@certbound/core";
import { createManagedIdentityClient } from "@certbound/credential-msi";
import { createUndiciTransport } from "@certbound/http-undici";

let offset = 0;
// The real clock's waits shortened 20 times (the 1 s back-off becomes 50 ms); time of day moved
// forward by the app instead of waiting for the refresh time.
const clock: Clock = {
  now: () => Date.now() + offset,
  random: () => 0.5,
  sleep: (ms, signal) => systemClock.sleep(ms / 20, signal),
};

async function main(): Promise<void> {
  const msi = createManagedIdentityClient({
    transport: createUndiciTransport(),
    env: { IDENTITY_ENDPOINT: process.env.STUB_URL, IDENTITY_HEADER: "stub-header" },
    fileExists: () => false,
    clock,
  });
  await msi.acquireToken({ resource: "https://vault.azure.net" });
  offset += 120_000; // past refresh_in (60 s): the next call starts a background refresh
  await msi.acquireToken({ resource: "https://vault.azure.net" });
  const forced = await msi.acquireToken({ resource: "https://vault.azure.net", forceRefresh: true });
  console.log(`forced: ${forced.accessToken}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
