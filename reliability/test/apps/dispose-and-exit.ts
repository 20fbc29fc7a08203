// An app in plain Node 20 style (no `await using`, a SyntaxError there): get a token through the
// Credential method, then dispose of client and transport in `finally` through Symbol.asyncDispose.
// Later calls must fail with `aborted` / a closed transport, and nothing may keep the process alive.
import { isCertboundError } from "@certbound/core";
import { createManagedIdentityClient } from "@certbound/credential-msi";
import { createUndiciTransport } from "@certbound/http-undici";

async function main(): Promise<void> {
  const transport = createUndiciTransport();
  const msi = createManagedIdentityClient({
    transport,
    env: { IDENTITY_ENDPOINT: process.env.STUB_URL, IDENTITY_HEADER: "stub-header" },
    fileExists: () => false,
  });
  try {
    const result = await msi.getToken(["https://vault.azure.net/.default"]);
    console.log(`token: ${result.accessToken}`);
  } finally {
    await msi[Symbol.asyncDispose]();
    await transport[Symbol.asyncDispose]();
  }
  const after = await msi.getToken(["https://vault.azure.net/.default"]).catch((e: unknown) => e);
  console.log(`after dispose: ${isCertboundError(after) ? after.code : "no error"}`);
  const send = await transport
    .send({ method: "GET", url: process.env.STUB_URL as string, headers: {} })
    .catch((e: unknown) => e);
  console.log(`transport after dispose: ${isCertboundError(send) ? send.code : "no error"}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
