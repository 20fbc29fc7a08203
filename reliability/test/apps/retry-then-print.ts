// An app as a CLI or cron job writes it: get a token, print it, end. The managed-identity endpoint
// (STUB_URL, App Service style) answers 500 once, so the token comes after a retry wait; the
// process must wait for it instead of exiting with code 0 in the middle of the back-off.
import { type Clock, systemClock } from "@certbound/core";
import { createManagedIdentityClient } from "@certbound/credential-msi";
import { createUndiciTransport } from "@certbound/http-undici";

// The real clock's waits, shortened 20 times: the 1 s back-off becomes 50 ms, and still runs on
// systemClock.sleep, whose timer is what must keep the process alive.
const clock: Clock = {
  now: () => Date.now(),
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
  const result = await msi.acquireToken({ resource: "https://vault.azure.net" });
  console.log(`token: ${result.accessToken}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
