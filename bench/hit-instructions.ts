// Instructions per cache hit, for `valgrind --tool=callgrind` (which counts instructions, whatever
// the machine's load): a client on a transport that answers in memory, `N` calls of one operation
// after a warm-up. Run it twice with different N and divide the difference by the difference of N.
// `node --import tsx hit-instructions.ts <op> <N>` (in bench/, after `pnpm build`).
import { createCertificateAuthority } from "@certbound/core/credential-kit";
import { createConfidentialClient } from "@certbound/credential-cert";
import { floorOperation } from "./cache-hit";

const [op = "floor", n = "100000"] = process.argv.slice(2);
const cert = createCertificateAuthority().issue({ commonName: "app" });
const app = createConfidentialClient({
  clientId: "app",
  authority: "https://login.microsoftonline.com/8d6c2f5e-0000-4000-8000-00000000c0de",
  certificate: { certificatePem: cert.certificatePem, privateKey: cert.privateKey },
  transport: {
    async send() {
      return {
        status: 200,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ access_token: "t", token_type: "mtls_pop", expires_in: 3600 }),
      };
    },
  },
  env: {},
});
const scope = "https://vault.azure.net/.default";
const reused = { scopes: [scope], mtlsProofOfPossession: true };
const floor = floorOperation(1);
const ops: Record<string, () => Promise<unknown>> = {
  floor: () => floor(0),
  fresh: () => app.acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: true }),
  reused: () => app.acquireTokenForClient(reused),
  getToken: () => app.getToken([scope], { mtlsProofOfPossession: true }),
};
const run = ops[op];
if (!run) throw new Error(`unknown op ${op}`);
await app.acquireTokenForClient(reused);
for (let i = 0; i < 20_000; i++) await run();
for (let i = 0; i < Number(n); i++) await run();
await app.close();
