// Cache hits as users write them: a fresh request object and scopes array per call, for every flow,
// next to the reused-object calls and the floor, all in the same rounds (so machine load hits them
// alike). Run alone, after `pnpm build`: `node --import tsx fresh-hit.ts` (in bench/).
// BENCH_MS sets the time per measurement; BENCH_KEYS the "many keys" count (0 skips those rows).
import { createCertificateAuthority } from "@certbound/core/credential-kit";
import { createConfidentialClient } from "@certbound/credential-cert";
import { createManagedIdentityClient } from "@certbound/credential-msi";
import { startEmulator } from "@certbound/emulator";
import { createUndiciTransport } from "@certbound/http-undici";
import { floorOperation, measureInterleaved, type Operation, tokenFloorOperation } from "./cache-hit";
import { inParallel } from "./measure-tools";

const MANY = Number(process.env.BENCH_KEYS ?? 10_000);
const emu = await startEmulator();
const transport = createUndiciTransport({ ca: emu.caCertificatePem });
const appCert = createCertificateAuthority().issue({ commonName: "bench-app", keyType: "rsa" });
emu.registerConfidentialClient({ clientId: "bench-app", certificatePem: appCert.certificatePem });
const newApp = () =>
  createConfidentialClient({
    clientId: "bench-app",
    authority: `https://login.microsoftonline.com/${emu.tenantId}`,
    certificate: { certificatePem: appCert.certificatePem, privateKeyPem: appCert.keyPem },
    authorityHost: emu.authorityHost,
    mtlsAuthorityHost: emu.mtlsAuthorityHost,
    ca: emu.caCertificatePem,
    transport,
  });
const newMsi = () =>
  createManagedIdentityClient({
    transport,
    imdsEndpoint: emu.imdsEndpoint,
    mtlsAuthorityHost: emu.mtlsAuthorityHost,
    ca: emu.caCertificatePem,
    env: {},
  });
const app = newApp();
const msi = newMsi();
const resource = emu.resourceUrl;
const scope = `${resource}/.default`;
const only = process.env.BENCH_ONLY?.split(",");
try {
  const reusedCcBearer = { scopes: [scope] };
  const reusedCcPop = { scopes: [scope], mtlsProofOfPossession: true };
  const reusedMiBearer = { resource };
  const reusedMiPop = { resource, mtlsProofOfPossession: true };
  await app.acquireTokenForClient(reusedCcBearer);
  await app.acquireTokenForClient(reusedCcPop);
  await msi.acquireToken(reusedMiBearer);
  await msi.acquireToken(reusedMiPop);
  const ops: Record<string, Operation> = {
    floor: floorOperation(1),
    ccBearerFresh: () => app.acquireTokenForClient({ scopes: [scope] }),
    ccPopFresh: () => app.acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: true }),
    ccGetTokenPopFresh: () => app.getToken([scope], { mtlsProofOfPossession: true }),
    miBearerFresh: () => msi.acquireToken({ resource }),
    miPopFresh: () => msi.acquireToken({ resource, mtlsProofOfPossession: true }),
    miGetTokenPopFresh: () => msi.getToken([scope], { mtlsProofOfPossession: true }),
    ccBearerReused: () => app.acquireTokenForClient(reusedCcBearer),
    ccPopReused: () => app.acquireTokenForClient(reusedCcPop),
    miBearerReused: () => msi.acquireToken(reusedMiBearer),
    miPopReused: () => msi.acquireToken(reusedMiPop),
  };
  let many: ReturnType<typeof newApp> | undefined;
  if (MANY > 0) {
    many = newApp();
    const scopes = Array.from({ length: MANY }, (_, i) => `https://resource-${i}.example/.default`);
    const m = many;
    await inParallel(MANY, 8, (i) =>
      m.acquireTokenForClient({ scopes: [scopes[i] as string], mtlsProofOfPossession: true }),
    );
    // Random order, drawn up front so the draw is not measured.
    const order = Uint32Array.from({ length: 1 << 16 }, () => Math.floor(Math.random() * MANY));
    ops.ccPopFreshMany = (i) =>
      m.acquireTokenForClient({
        scopes: [scopes[order[i & 0xffff] as number] as string],
        mtlsProofOfPossession: true,
      });
    // The many-key client asked for one of its keys over and over.
    const first = scopes[0] as string;
    ops.ccPopFreshManyClientOneKey = () =>
      m.acquireTokenForClient({ scopes: [first], mtlsProofOfPossession: true });
    const floorMany = floorOperation(MANY);
    ops.floorMany = (i) => floorMany(order[i & 0xffff] as number);
    ops.tokenFloor = tokenFloorOperation(1);
    const tokenFloorMany = tokenFloorOperation(MANY);
    ops.tokenFloorMany = (i) => tokenFloorMany(order[i & 0xffff] as number);
  }
  const selected = only
    ? Object.fromEntries(Object.entries(ops).filter(([k]) => k === "floor" || only.includes(k)))
    : ops;
  const rows = await measureInterleaved(selected);
  const floor = rows.floor?.opsPerSecond ?? 1;
  for (const [name, row] of Object.entries(rows)) {
    console.log(
      `${name.padEnd(24)} ${Math.round(row.opsPerSecond).toLocaleString("en-US").padStart(12)} ops/s  x floor ${(floor / row.opsPerSecond).toFixed(2).padStart(6)}  p50 ${row.p50Us.toFixed(3)} us  p99 ${row.p99Us.toFixed(3)} us`,
    );
  }
  if (rows.ccPopFreshMany && rows.ccPopFresh && rows.floorMany && rows.floor) {
    console.log(
      `${MANY} keys in random order / 1 key, fresh PoP requests: ${(rows.ccPopFresh.opsPerSecond / rows.ccPopFreshMany.opsPerSecond).toFixed(2)}x; the floor's own: ${(rows.floor.opsPerSecond / rows.floorMany.opsPerSecond).toFixed(2)}x${rows.tokenFloor && rows.tokenFloorMany ? `; the token-shaped floor's own: ${(rows.tokenFloor.opsPerSecond / rows.tokenFloorMany.opsPerSecond).toFixed(2)}x` : ""}`,
    );
  }
  await many?.close();
} finally {
  await app.close();
  await msi.close();
  await transport.close();
  await emu.close();
}
