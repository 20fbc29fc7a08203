// An app that passes one AbortSignal to many concurrent calls (a request-scoped signal in a web
// server, say): no MaxListenersExceededWarning may be printed. Prints the warnings it saw as JSON.
import { createManagedIdentityClient } from "@certbound/credential-msi";
import { createAxiosTransport } from "@certbound/http-axios";
import { createUndiciTransport } from "@certbound/http-undici";

const warnings: string[] = [];
process.on("warning", (warning) => warnings.push(`${warning.name}: ${warning.message}`));

async function main(): Promise<void> {
  const url = process.env.STUB_URL as string;
  const { signal } = new AbortController();
  const undici = createUndiciTransport();
  const axios = createAxiosTransport();
  for (const transport of [undici, axios]) {
    await Promise.all(
      Array.from({ length: 60 }, () =>
        transport.send({ method: "GET", url: `${url}/resource`, headers: {}, signal, timeoutMs: 10_000 }),
      ),
    );
  }
  const msi = createManagedIdentityClient({
    transport: undici,
    env: { IDENTITY_ENDPOINT: url, IDENTITY_HEADER: "stub-header" },
    fileExists: () => false,
  });
  // One acquisition shared by sixty callers, each waiting with the same signal.
  await Promise.all(
    Array.from({ length: 60 }, () => msi.acquireToken({ resource: "https://vault.azure.net", signal })),
  );
  // Warnings are emitted on a later tick.
  await new Promise<void>((resolve) => setImmediate(resolve));
  msi.close();
  await undici.close?.();
  await axios.close?.();
  console.log(JSON.stringify({ warnings }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
