// Process lifetime: an app using the validator (with its JWKS fetched and cached) and createPopFetch
// exits on its own once it has closed its server, credential and transport. Run as a child `node`
// process; the emulator stays up in this process, so nothing on its side ends the child's sockets.
import { randomUUID } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runNodeApp } from "@certbound/testing";
import { expect, it } from "vitest";
import { AUDIENCE, useBed } from "./testbed";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const rootTsconfig = join(packageDir, "..", "..", "tsconfig.json");
const bed = useBed();

it("exits with code 0 by itself after a validated call, with no handle left behind", async () => {
  const clientId = randomUUID();
  bed.emu.registerConfidentialClient({ clientId, certificatePem: bed.appCert.certificatePem });
  const config = {
    tenantId: bed.emu.tenantId,
    audience: AUDIENCE,
    authorityHost: bed.emu.authorityHost,
    mtlsAuthorityHost: bed.emu.mtlsAuthorityHost,
    emulatorCa: bed.emu.caCertificatePem,
    apiCa: bed.ca.certificatePem,
    serverCert: bed.serverCert.certificatePem,
    serverKey: bed.serverCert.keyPem,
    clientId,
    clientCert: bed.appCert.certificatePem,
    clientKey: bed.appCert.keyPem,
  };
  const { code, stdout, stderr } = await runNodeApp(["--import", "tsx", "test/apps/fetch-and-exit.ts"], {
    cwd: packageDir,
    env: { TSX_TSCONFIG_PATH: rootTsconfig, CERTBOUND_APP_CONFIG: JSON.stringify(config) },
  });
  expect(stderr).toBe("");
  expect(code).toBe(0);
  expect(JSON.parse(stdout)).toEqual({ status: 200, body: { type: "mtls_pop", x5t: bed.appCert.x5tS256 } });
  // The child fetched discovery and the keys from the emulator, which is still running.
  expect(bed.emu.stats().requests.jwks).toBeGreaterThanOrEqual(1);
});
