// Instructions per cache hit, for `valgrind --tool=callgrind` (which counts instructions, whatever
// the machine's load): a client on a transport that answers in memory, `N` calls of one operation
// after a warm-up. Run it twice with different N and divide the difference by the difference of N.
// `node --import tsx hit-instructions.ts <op> <N>` (in bench/, after `pnpm build`); ops: floor,
// floorMany (10,000 keys, random order), fresh, reused, getToken (confidential client PoP, 1 key),
// bearerFresh, bearerReused, freshMany (PoP, 10,000 keys, random order, fresh objects),
// reusedMany (PoP, 10,000 keys in turn, reused objects).
import { createCertificateAuthority } from "@certbound/core/credential-kit";
import { createConfidentialClient } from "@certbound/credential-cert";
import { floorOperation } from "./cache-hit";

const [op = "floor", n = "100000"] = process.argv.slice(2);
const MANY = 10_000;
const cert = createCertificateAuthority().issue({ commonName: "app", keyType: "rsa" });
const app = createConfidentialClient({
  clientId: "app",
  authority: "https://login.microsoftonline.com/8d6c2f5e-0000-4000-8000-00000000c0de",
  certificate: { certificatePem: cert.certificatePem, privateKey: cert.privateKey },
  transport: {
    async send(request) {
      const pop = String(request.body).includes("token_type=mtls_pop");
      return {
        status: 200,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          access_token: "t",
          token_type: pop ? "mtls_pop" : "Bearer",
          expires_in: 3600,
        }),
      };
    },
  },
  env: {},
});
const scope = "https://vault.azure.net/.default";
const reused = { scopes: [scope], mtlsProofOfPossession: true };
const reusedBearer = { scopes: [scope] };
const scopes = Array.from({ length: MANY }, (_, i) => `https://resource-${i}.example/.default`);
// Drawn once, not per call: the draw is not what is measured.
const order = Uint32Array.from({ length: 1 << 16 }, () => Math.floor(Math.random() * MANY));
const reusedMany = scopes.map((s) => ({ scopes: [s], mtlsProofOfPossession: true }));
const floor = floorOperation(1);
const floorMany = floorOperation(MANY);
let i = 0;
const ops: Record<string, () => Promise<unknown>> = {
  floor: () => floor(0),
  floorMany: () => floorMany(order[i++ & 0xffff] as number),
  fresh: () => app.acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: true }),
  reused: () => app.acquireTokenForClient(reused),
  getToken: () => app.getToken([scope], { mtlsProofOfPossession: true }),
  bearerFresh: () => app.acquireTokenForClient({ scopes: [scope] }),
  bearerReused: () => app.acquireTokenForClient(reusedBearer),
  freshMany: () =>
    app.acquireTokenForClient({
      scopes: [scopes[order[i++ & 0xffff] as number] as string],
      mtlsProofOfPossession: true,
    }),
  reusedMany: () => app.acquireTokenForClient(reusedMany[i++ % MANY] as (typeof reusedMany)[number]),
};
const run = ops[op];
if (!run) throw new Error(`unknown op ${op}`);
await app.acquireTokenForClient(reused);
await app.acquireTokenForClient(reusedBearer);
if (op.endsWith("Many")) for (const r of reusedMany) await app.acquireTokenForClient(r);
for (let k = 0; k < 20_000; k++) await run();
for (let k = 0; k < Number(n); k++) await run();
await app.close();
