// A/B of the cache-hit path: each client's MSAL-shaped method against its Credential method
// (`getToken`), measured in the same rounds so machine load hits both alike. Run alone, after
// `pnpm build`: `node --import tsx credential-hit.ts` (in bench/). BENCH_MS sets the time per round.
import { createCertificateAuthority } from "@certbound/core/credential-kit";
import { createConfidentialClient } from "@certbound/credential-cert";
import { createManagedIdentityClient } from "@certbound/credential-msi";
import { startEmulator } from "@certbound/emulator";
import { createUndiciTransport } from "@certbound/http-undici";
import { floorOperation, measureInterleaved } from "./cache-hit";

const emu = await startEmulator();
const transport = createUndiciTransport({ ca: emu.caCertificatePem });
const appCert = createCertificateAuthority().issue({ commonName: "bench-app", keyType: "rsa" });
emu.registerConfidentialClient({ clientId: "bench-app", certificatePem: appCert.certificatePem });
const scope = `${emu.resourceUrl}/.default`;
const scopes = [scope];
const app = createConfidentialClient({
  clientId: "bench-app",
  authority: `https://login.microsoftonline.com/${emu.tenantId}`,
  certificate: { certificatePem: appCert.certificatePem, privateKeyPem: appCert.keyPem },
  mtlsAuthorityHost: emu.mtlsAuthorityHost,
  transport,
});
const msi = createManagedIdentityClient({
  transport,
  imdsEndpoint: emu.imdsEndpoint,
  mtlsAuthorityHost: emu.mtlsAuthorityHost,
  ca: emu.caCertificatePem,
  env: {},
});
try {
  const ccRequest = { scopes, mtlsProofOfPossession: true };
  const miRequest = { resource: emu.resourceUrl, mtlsProofOfPossession: true };
  const pop = { mtlsProofOfPossession: true };
  await app.acquireTokenForClient(ccRequest);
  await msi.acquireToken(miRequest);
  const rows = await measureInterleaved({
    ccAcquireTokenForClient: () => app.acquireTokenForClient(ccRequest),
    ccGetToken: () => app.getToken(scopes, pop),
    miAcquireToken: () => msi.acquireToken(miRequest),
    miGetToken: () => msi.getToken(scopes, pop),
    floor: floorOperation(1),
  });
  for (const [name, row] of Object.entries(rows)) {
    console.log(
      `${name.padEnd(24)} ${Math.round(row.opsPerSecond).toLocaleString("en-US").padStart(12)} ops/s  p50 ${row.p50Us.toFixed(3)} us  p99 ${row.p99Us.toFixed(3)} us`,
    );
  }
} finally {
  await app.close();
  await msi.close();
  await transport.close();
  await emu.close();
}
