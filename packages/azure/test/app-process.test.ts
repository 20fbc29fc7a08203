// Like an app: a child `node` process runs a small script on the built packages (dist/), trusts the
// emulator only through NODE_EXTRA_CA_CERTS (no `tlsOptions`), reads a secret with SecretClient and
// an mTLS PoP token, closes what it opened, and must then exit on its own with code 0: the SDK's
// keep-alive connections (one per certificate) must not hold the process open.

import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCertificateAuthority } from "@certbound/core/credential-kit";
import { type Emulator, startEmulator } from "@certbound/emulator";
import { afterAll, beforeAll, expect, it } from "vitest";

let emu: Emulator;
let dir: string;

beforeAll(async () => {
  emu = await startEmulator();
  dir = mkdtempSync(join(tmpdir(), "certbound-azure-app-"));
  writeFileSync(join(dir, "emulator-ca.pem"), emu.caCertificatePem);
});
afterAll(async () => {
  await emu?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const APP = `
import { SecretClient } from "@azure/keyvault-secrets";
import { certboundClientOptions } from "@certbound/azure";
import { createConfidentialClient } from "@certbound/credential-cert";
import { createUndiciTransport } from "@certbound/http-undici";

const env = JSON.parse(process.env.APP_CONFIG);
const transport = createUndiciTransport();
const app = createConfidentialClient({
  clientId: env.clientId,
  authority: env.authority,
  mtlsAuthorityHost: env.mtlsAuthorityHost,
  certificate: { certificatePem: env.certificatePem, privateKeyPem: env.keyPem },
  transport,
  env: {},
});
const azure = certboundClientOptions({ credential: app, tenantId: env.tenantId });
const client = new SecretClient(env.vaultUrl, azure.credential, { ...azure, disableChallengeResourceVerification: true });
try {
  const first = await client.getSecret("app-secret");
  const second = await client.getSecret("app-secret");
  console.log(JSON.stringify({ value: first.value, again: second.value }));
} finally {
  await app.close();
  await transport.close();
}
`;

it("a child-process app reads a secret with a PoP token, trusting the emulator through NODE_EXTRA_CA_CERTS, and exits on its own", async () => {
  const cert = createCertificateAuthority({ commonName: "app CA" }).issue({ commonName: "app" });
  const clientId = randomUUID();
  emu.registerConfidentialClient({ clientId, certificatePem: cert.certificatePem });
  emu.setKeyVaultSecret({ name: "app-secret", value: "from-the-vault" });
  const config = {
    clientId,
    authority: `${emu.authorityHost}/${emu.tenantId}`,
    mtlsAuthorityHost: emu.mtlsAuthorityHost,
    certificatePem: cert.certificatePem,
    keyPem: cert.keyPem,
    tenantId: emu.tenantId,
    vaultUrl: emu.resourceUrl,
  };
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      // cwd: this package, so the bare imports resolve to its dependencies and their dist/.
      const child = spawn(process.execPath, ["--input-type=module", "-e", APP], {
        cwd: join(__dirname, ".."),
        env: {
          ...process.env,
          NODE_EXTRA_CA_CERTS: join(dir, "emulator-ca.pem"),
          APP_CONFIG: JSON.stringify(config),
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout.on("data", (chunk) => {
        out += chunk;
      });
      child.stderr.on("data", (chunk) => {
        err += chunk;
      });
      child.on("error", reject);
      child.on("close", (exitCode) => resolve({ code: exitCode, stdout: out, stderr: err }));
    },
  );
  expect(stderr).toBe("");
  expect(code).toBe(0);
  expect(JSON.parse(stdout.trim())).toEqual({ value: "from-the-vault", again: "from-the-vault" });
  expect(emu.stats().requests.mtlsToken).toBe(1);
  expect(emu.stats().handshakes.resource).toBe(2);
});
