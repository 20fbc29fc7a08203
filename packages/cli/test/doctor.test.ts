// `certbound doctor`, the built binary: off Azure (nothing answers), and on an emulated VM.
import { writeFileSync } from "node:fs";
import { createServer } from "node:https";
import { type AddressInfo, createServer as createNetServer, type Socket } from "node:net";
import { join } from "node:path";
import { createCertificateAuthority } from "@certbound/core/credential-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certbound, cleanEnv, closedPort, emulatorWithCaFile, mask, tempDir } from "./helpers";

let dir: string;
beforeAll(() => {
  dir = tempDir();
});

describe("certbound doctor off Azure", () => {
  it("ends in under 5 s with ✗ and a fix for IMDS and the identity provider, exit code 6", async () => {
    // IMDS and the authority are a closed loopback port: nothing leaves this machine.
    const port = await closedPort();
    const args = [
      "doctor",
      "--imds-endpoint",
      `http://127.0.0.1:${port}`,
      "--authority-host",
      `https://127.0.0.1:${port}`,
    ];
    const json = await certbound([...args, "--json"]);
    expect(json.code).toBe(6);
    const report = JSON.parse(json.stdout);
    expect(report.ok).toBe(false);
    // Measured by the child itself, and from the outside including Node's start-up.
    expect(report.elapsedMs).toBeLessThan(5_000);
    expect(json.elapsedMs).toBeLessThan(5_000);
    const byName = Object.fromEntries(report.checks.map((c: { name: string }) => [c.name, c]));
    expect(byName["IMDS v2"]).toMatchObject({ ok: false });
    expect(byName["IMDS v2"].fix).toContain("Off Azure this is expected");
    expect(byName.clock).toMatchObject({ ok: false, code: "network_error" });
    expect(byName.proxies).toMatchObject({ ok: true });

    const human = await certbound(args);
    expect(human.code).toBe(6);
    expect(human.elapsedMs).toBeLessThan(5_000);
    expect(mask(human.stdout).replace(/\((timeout|network_error)\)/, "(<code>)")).toMatchSnapshot();
  });

  it("ends in under 5 s when IMDS and the identity provider accept connections and never answer (a black hole)", async () => {
    // Off Azure, 169.254.169.254 does not refuse: packets vanish. A silent loopback listener is
    // the closest a test can get without leaving the machine.
    const sockets = new Set<Socket>();
    const hole = createNetServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => hole.listen(0, "127.0.0.1", resolve));
    const port = (hole.address() as AddressInfo).port;
    try {
      const run = await certbound([
        "doctor",
        "--json",
        "--imds-endpoint",
        `http://127.0.0.1:${port}`,
        "--authority-host",
        `https://127.0.0.1:${port}`,
      ]);
      expect(run.code).toBe(6);
      const report = JSON.parse(run.stdout);
      expect(report.elapsedMs).toBeLessThan(5_000);
      expect(run.elapsedMs).toBeLessThan(5_000);
      expect(report.checks.find((c: { name: string }) => c.name === "IMDS v2")).toMatchObject({ ok: false });
      expect(report.checks.find((c: { name: string }) => c.name === "clock")).toMatchObject({ ok: false });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => hole.close(resolve));
    }
  });

  it("names proxies that would catch IMDS without printing their credentials", async () => {
    const port = await closedPort();
    const env = cleanEnv({ HTTPS_PROXY: "http://alice:s3cret-pw@proxy.invalid:3128", NO_PROXY: "localhost" });
    const run = await certbound(
      [
        "doctor",
        "--json",
        "--imds-endpoint",
        `http://127.0.0.1:${port}`,
        "--authority-host",
        `https://127.0.0.1:${port}`,
      ],
      { env },
    );
    const proxies = JSON.parse(run.stdout).checks.find((c: { name: string }) => c.name === "proxies");
    expect(proxies).toMatchObject({ ok: false, fix: expect.stringContaining("NO_PROXY") });
    expect(proxies.detail).toContain("HTTPS_PROXY=http://proxy.invalid:3128");
    expect(run.stdout).not.toContain("s3cret-pw");
    expect(run.stdout).not.toContain("alice");

    const exempt = cleanEnv({
      HTTPS_PROXY: "http://proxy.invalid:3128",
      NO_PROXY: "localhost,169.254.0.0/16",
    });
    const ok = await certbound(
      [
        "doctor",
        "--json",
        "--imds-endpoint",
        `http://127.0.0.1:${port}`,
        "--authority-host",
        `https://127.0.0.1:${port}`,
      ],
      { env: exempt },
    );
    expect(JSON.parse(ok.stdout).checks.find((c: { name: string }) => c.name === "proxies").ok).toBe(true);
  });
});

describe("certbound doctor against an identity provider whose clock is off", () => {
  it("✗ clock with the skew and a fix when the Date header is 10 minutes ahead", async () => {
    const ca = createCertificateAuthority();
    const cert = ca.issue({ commonName: "127.0.0.1", subjectAltNames: ["127.0.0.1"], usage: "server" });
    const caFile = join(dir, "clock-ca.pem");
    writeFileSync(caFile, ca.certificatePem);
    // Node sets Date itself unless the handler does: this one lies by 600 s.
    const server = createServer({ cert: cert.certificatePem, key: cert.keyPem }, (_req, res) => {
      res.writeHead(404, { date: new Date(Date.now() + 600_000).toUTCString() });
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = await closedPort();
      const authority = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const run = await certbound([
        "doctor",
        "--json",
        "--imds-endpoint",
        `http://127.0.0.1:${port}`,
        "--authority-host",
        authority,
        "--ca",
        caFile,
      ]);
      const clock = JSON.parse(run.stdout).checks.find((c: { name: string }) => c.name === "clock");
      expect(clock.ok).toBe(false);
      expect(clock.detail).toMatch(/^(599|600|601) s behind /);
      expect(clock.fix).toContain("NTP");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("certbound doctor --certificate", () => {
  it("✗ certificate key when the key is another certificate's; ✗ chain when the chain is out of order", async () => {
    const port = await closedPort();
    const base = [
      "doctor",
      "--json",
      "--imds-endpoint",
      `http://127.0.0.1:${port}`,
      "--authority-host",
      `https://127.0.0.1:${port}`,
    ];
    const ca = createCertificateAuthority();
    const one = ca.issue({ commonName: "one" });
    const two = ca.issue({ commonName: "two" });
    const wrongKey = join(dir, "wrong-key.pem");
    writeFileSync(wrongKey, `${one.certificatePem}${two.keyPem}`);
    const run = await certbound([...base, "--certificate", wrongKey]);
    expect(run.code).toBe(6);
    const key = JSON.parse(run.stdout).checks.find((c: { name: string }) => c.name === "certificate key");
    expect(key).toMatchObject({ ok: false });
    expect(key.fix).toBeTruthy();
    expect(run.stdout).not.toContain("PRIVATE KEY");

    // Leaf, then an unrelated certificate instead of its issuer.
    const unordered = join(dir, "unordered.pem");
    writeFileSync(unordered, `${one.certificatePem}${two.certificatePem}${one.keyPem}`);
    const chain = JSON.parse((await certbound([...base, "--certificate", unordered])).stdout).checks.find(
      (c: { name: string }) => c.name === "chain",
    );
    expect(chain).toMatchObject({ ok: false, code: "invalid_certificate" });
  });
});

describe("certbound doctor on an emulated VM", () => {
  it("all ✓ with IMDS v2, a test PoP token, the clock and a certificate's key, chain, thumbprints and mTLS endpoint", async () => {
    const { emu, caFile } = await emulatorWithCaFile(dir);
    try {
      const ca = createCertificateAuthority({ keyType: "rsa" });
      const leaf = ca.issue({ commonName: "app", keyType: "rsa" });
      const pem = join(dir, "doctor-app.pem");
      writeFileSync(pem, `${leaf.certificatePem}${leaf.keyPem}`);
      const args = [
        "doctor",
        "--imds-endpoint",
        emu.imdsEndpoint,
        "--mtls-authority-host",
        emu.mtlsAuthorityHost,
        "--authority-host",
        emu.authorityHost,
        "--ca",
        caFile,
        "--resource",
        emu.resourceUrl,
        "--certificate",
        pem,
        "--tenant",
        emu.tenantId,
        "--client-id",
        "my-app",
        "--ca",
        join(dir, "doctor-ca.pem"),
      ];
      writeFileSync(join(dir, "doctor-ca.pem"), ca.certificatePem);
      const run = await certbound(args);
      expect(run.stderr).toBe("");
      expect(run.stdout).not.toContain("✗");
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(
        `SHA-1 ${leaf.certificate.fingerprint.replaceAll(":", "")}, x5t#S256 ${leaf.x5tS256}`,
      );
      expect(run.stdout).toContain("(a --ca certificate)");
      expect(mask(run.stdout)).toMatchSnapshot();
    } finally {
      await emu.close();
    }
  });

  it("✗ when IMDS demands attestation, ✗ on a v1-only VM, ✗ for an expired certificate", async () => {
    const { emu, caFile } = await emulatorWithCaFile(dir, { requireAttestation: true });
    const v1 = await emulatorWithCaFile(dir, { imdsV2: false });
    try {
      const expired = createCertificateAuthority().issue({
        commonName: "old",
        notBefore: new Date(Date.now() - 10 * 86_400_000),
        notAfter: new Date(Date.now() - 86_400_000),
      });
      const pem = join(dir, "expired.pem");
      writeFileSync(pem, `${expired.certificatePem}${expired.keyPem}`);
      const common = ["--authority-host", emu.authorityHost, "--ca", caFile, "--json"];
      const attest = await certbound([
        "doctor",
        "--imds-endpoint",
        emu.imdsEndpoint,
        "--mtls-authority-host",
        emu.mtlsAuthorityHost,
        "--resource",
        emu.resourceUrl,
        "--certificate",
        pem,
        ...common,
      ]);
      expect(attest.code).toBe(6);
      const checks = JSON.parse(attest.stdout).checks;
      const find = (name: string) => checks.find((c: { name: string }) => c.name === name);
      expect(find("attestation")).toMatchObject({ ok: false, code: "managed_identity_attestation_required" });
      expect(find("validity")).toMatchObject({ ok: false, code: "certificate_expired" });

      // Without --mtls-authority-host, a host not starting with login. has no mTLS endpoint.
      const old = await certbound([
        "doctor",
        "--imds-endpoint",
        v1.emu.imdsEndpoint,
        "--certificate",
        pem,
        ...common,
      ]);
      expect(
        JSON.parse(old.stdout).checks.find((c: { name: string }) => c.name === "mTLS endpoint"),
      ).toMatchObject({
        ok: false,
        code: "mtls_pop_not_supported_for_environment",
      });
      expect(JSON.parse(old.stdout).checks.find((c: { name: string }) => c.name === "IMDS v2")).toMatchObject(
        {
          ok: false,
          code: "mtls_pop_token_not_supported_in_imds_v1",
        },
      );
    } finally {
      await emu.close();
      await v1.emu.close();
    }
  });

  it("names the App Service source from its variables (names only: IDENTITY_HEADER is a secret)", async () => {
    const { emu, caFile } = await emulatorWithCaFile(dir);
    try {
      const env = cleanEnv(emu.managedIdentityEnvironment("appService"));
      const run = await certbound(
        ["doctor", "--json", "--authority-host", emu.authorityHost, "--ca", caFile],
        { env },
      );
      const checks = JSON.parse(run.stdout).checks;
      expect(checks[0]).toMatchObject({ name: "managed-identity source", ok: true });
      expect(checks[0].detail).toContain("App Service");
      expect(checks[1]).toMatchObject({ name: "mTLS PoP", ok: false });
      expect(run.stdout).not.toContain(env.IDENTITY_HEADER);
    } finally {
      await emu.close();
    }
  });
});

afterAll(() => undefined);
