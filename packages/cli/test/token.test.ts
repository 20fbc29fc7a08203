// `certbound token` and `certbound decode`, the built binary against the emulator.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createCertificateAuthority, type IssuedCertificate } from "@certbound/core/credential-kit";
import type { Emulator } from "@certbound/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certbound, cleanEnv, emulatorWithCaFile, mask, tempDir } from "./helpers";

let dir: string;
let emu: Emulator;
let caFile: string;
let app: IssuedCertificate;
let appPem: string;
let appPfx: string;
const appId = "11111111-2222-3333-4444-555555555555";

beforeAll(async () => {
  dir = tempDir();
  ({ emu, caFile } = await emulatorWithCaFile(dir));
  app = createCertificateAuthority({ keyType: "rsa" }).issue({
    commonName: "certbound-cli-test",
    keyType: "rsa",
  });
  emu.registerConfidentialClient({ clientId: appId, certificatePem: app.certificatePem });
  appPem = join(dir, "app.pem");
  writeFileSync(appPem, `${app.certificatePem}${app.keyPem}`);
  writeFileSync(join(dir, "app-cert.pem"), app.certificatePem);
  writeFileSync(join(dir, "app-key.pem"), app.keyPem);
  appPfx = join(dir, "app.pfx");
  execFileSync("openssl", [
    "pkcs12",
    "-export",
    "-in",
    join(dir, "app-cert.pem"),
    "-inkey",
    join(dir, "app-key.pem"),
    "-out",
    appPfx,
    "-passout",
    "pass:pfx-secret-1234",
  ]);
});
afterAll(async () => {
  await emu?.close();
});

const mi = () => [
  "--imds-endpoint",
  emu.imdsEndpoint,
  "--mtls-authority-host",
  emu.mtlsAuthorityHost,
  "--ca",
  caFile,
];
const cc = () => [
  "--certificate",
  appPem,
  "--tenant",
  emu.tenantId,
  "--client-id",
  appId,
  "--authority-host",
  emu.authorityHost,
  "--mtls-authority-host",
  emu.mtlsAuthorityHost,
  "--ca",
  caFile,
];

describe("certbound token", () => {
  it("gets a managed-identity PoP token: human output with thumbprints and a checked cnf, never the token", async () => {
    const run = await certbound(["token", "--resource", emu.resourceUrl, ...mi()]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const json = JSON.parse(
      (await certbound(["token", "--resource", emu.resourceUrl, "--json", ...mi()])).stdout,
    );
    // The token itself never appears in human output; its payload's signature neither.
    expect(run.stdout).not.toContain(json.accessToken.split(".")[2]);
    expect(run.stdout).toMatch(/SHA-1 {7}[0-9A-F]{40} {2}\(the thumbprint the Entra portal shows\)/);
    expect(run.stdout).toContain("✓ x5t#S256");
    expect(mask(run.stdout)).toMatchSnapshot();
  });

  it("--json carries the token, its type, expiry, both thumbprints and the cnf check", async () => {
    const run = await certbound(["token", "--resource", emu.resourceUrl, "--json", ...mi()]);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out).toMatchObject({
      tokenType: "mtls_pop",
      source: "managed_identity",
      scopes: [`${emu.resourceUrl}/.default`],
      cnf: { matchesBindingCertificate: true },
    });
    expect(out.accessToken.split(".")).toHaveLength(3);
    expect(out.bindingCertificate.sha1).toMatch(/^[0-9A-F]{40}$/);
    expect(out.cnf["x5t#S256"]).toBe(out.bindingCertificate.x5tS256);
    expect(out.claimTimes.exp).toBe(out.expiresOn.replace(/\.\d+Z$/, ".000Z"));
  });

  it("--raw prints only the token, which the resource accepts", async () => {
    const run = await certbound(["token", "--resource", emu.resourceUrl, "--raw", "--bearer", ...mi()]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  });

  it.each([
    ["--client-id", "clientId"],
    ["--object-id", "objectId"],
    ["--resource-id", "resourceId"],
  ] as const)("selects a user-assigned identity by %s", async (flag, field) => {
    const identity = emu.registerManagedIdentity();
    const run = await certbound([
      "token",
      "--resource",
      emu.resourceUrl,
      "--json",
      flag,
      identity[field],
      ...mi(),
    ]);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.claims.oid).toBe(identity.objectId);
    expect(out.sourceDescription).toContain(identity[field]);
  });

  it("gets a confidential-client PoP token with a PEM certificate bound to it", async () => {
    const run = await certbound(["token", "--resource", emu.resourceUrl, "--json", ...cc()]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.source).toBe("confidential_client");
    expect(out.bindingCertificate.x5tS256).toBe(app.x5tS256);
    expect(out.cnf.matchesBindingCertificate).toBe(true);
    expect(out.claims.appid).toBe(appId);
  });

  it("gets a Bearer token with a PFX whose passphrase comes from the environment, never the command line", async () => {
    const args = ["token", "--resource", emu.resourceUrl, "--bearer", "--json", ...cc()];
    args[args.indexOf(appPem)] = appPfx;
    const run = await certbound(args, {
      env: cleanEnv({ CERTBOUND_CERTIFICATE_PASSPHRASE: "pfx-secret-1234" }),
    });
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.tokenType).toBe("Bearer");
    expect(out.cnf).toBeNull();
    expect(out.bindingCertificate).toBeNull();
  });

  it("a wrong PFX passphrase: validation exit code 5, the code and a fix, and no passphrase echoed", async () => {
    const args = ["token", "--resource", emu.resourceUrl, ...cc()];
    args[args.indexOf(appPem)] = appPfx;
    const run = await certbound(args, {
      env: cleanEnv({ CERTBOUND_CERTIFICATE_PASSPHRASE: "not-the-passphrase" }),
    });
    expect(run.code).toBe(5);
    expect(run.stderr).toContain("[wrong_passphrase]");
    expect(run.stderr).toContain("fix: Put the right passphrase");
    expect(run.stderr + run.stdout).not.toContain("not-the-passphrase");
  });

  it("an app the identity provider does not know: authentication exit code 3 with the AADSTS error", async () => {
    const args = cc();
    args[args.indexOf(appId)] = "99999999-0000-0000-0000-000000000000";
    const run = await certbound(["token", "--resource", emu.resourceUrl, ...args]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/✗ error \[service_error\]: .*AADSTS/);
    expect(run.stderr).toContain("fix: ");
  });

  it("an untrusted server (no --ca): network exit code 4, tls_handshake_failed or network_error, never a token", async () => {
    const run = await certbound([
      "token",
      "--resource",
      emu.resourceUrl,
      "--imds-endpoint",
      emu.imdsEndpoint,
      "--mtls-authority-host",
      emu.mtlsAuthorityHost,
    ]);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/\[(tls_handshake_failed|network_error)\]/);
  });

  it("--json errors are JSON on stdout with the code, the fix and the exit code", async () => {
    const run = await certbound(["token", "--json", ...mi()]);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, error: { code: "usage", exitCode: 2 } });
  });
});

describe("certbound decode", () => {
  let token: string;
  beforeAll(async () => {
    token = (await certbound(["token", "--resource", emu.resourceUrl, "--raw", ...mi()])).stdout.trim();
  });

  it("shows header and claims with times in UTC and local and the cnf binding, not the signature", async () => {
    const run = await certbound(["decode", token]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("◀ certificate binding");
    expect(run.stdout).toMatch(/exp +\d{10} {2}\d{4}-\d\d-\d\dT[\d:.]+Z \(local /);
    expect(run.stdout).not.toContain(token.split(".")[2]);
    expect(mask(run.stdout)).toMatchSnapshot();
  });

  it("reads the token from stdin with -, and --json gives header, claims and ISO times", async () => {
    const run = await certbound(["decode", "-", "--json"], { stdin: `${token}\n` });
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.header.alg).toBe("RS256");
    expect(out.claims.cnf["x5t#S256"]).toMatch(/^[\w-]{43}$/);
    expect(out.claimTimes.exp).toMatch(/Z$/);
  });

  it("text that is not a JWT: exit code 5, invalid_jwt, and the input is not echoed", async () => {
    const run = await certbound(["decode", "my-client-secret-value"]);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain("[invalid_jwt]");
    expect(run.stderr).not.toContain("my-client-secret-value");
  });

  it("a hostile token cannot send escape sequences or forge lines on the terminal", async () => {
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const evil = `${part({ alg: "none" })}.${part({ sub: "x\u001b[2J\r\nexp  forged", exp: 1 })}.`;
    const run = await certbound(["decode", `${evil}sig`]);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain("\u001b");
    expect(run.stdout).toContain("\\u001b[2J\\r\\nexp  forged");
  });
});
