// An app that creates a managed-identity client on an IMDS machine and then has nothing more to
// do. The client starts generating its PoP key in the background at creation; that must neither
// keep the process alive nor leave anything behind that Node counts as pending work.
import { createManagedIdentityClient } from "@certbound/credential-msi";
import { createUndiciTransport } from "@certbound/http-undici";

const transport = createUndiciTransport();
createManagedIdentityClient({ transport, env: {} });
// Nothing the client started is a resource that holds the event loop (the worker and its port
// are unref'd; a generateKeyPair job in libuv's pool would be listed and would hold it).
// The test reads this process's stdout and stderr through pipes: those are the test's, not ours.
const pending = process.getActiveResourcesInfo().filter((r) => r !== "PipeWrap" && r !== "TTYWrap");
console.log(`pending: ${JSON.stringify(pending)}`);
