import { X509Certificate } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { connect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AZURE_ARC_AGENT_EXECUTABLE,
  AZURE_ARC_AGENT_TOKEN_FOLDER,
  openArcTokenFolder,
} from "../src/arc-token-folder";
import { type Emulator, startEmulator } from "../src/index";
import { openssl, send, tempDir, writeIn } from "./helpers";

let first: Emulator;
let second: Emulator;

beforeAll(async () => {
  [first, second] = await Promise.all([startEmulator(), startEmulator()]);
});
afterAll(async () => {
  await Promise.all([first?.close(), second?.close()]);
});

/** The certificate an HTTPS server presents. */
function presented(url: string, options: { ca?: string } = {}): Promise<X509Certificate> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: hostname, port: Number(port), servername: "localhost", rejectUnauthorized: false, ...options },
      () => {
        const peer = socket.getPeerX509Certificate();
        socket.destroy();
        peer ? resolve(peer) : reject(new Error("no certificate"));
      },
    );
    socket.on("error", reject);
  });
}

const keyIds = (pem: string) => {
  const text = openssl(tempDir(), ["x509", "-noout", "-text"], Buffer.from(pem)).toString();
  const read = (label: string) =>
    new RegExp(`${label}:\\s*\\n\\s*(?:keyid:)?([0-9A-F:]+)`).exec(text)?.[1] ?? "missing";
  return {
    subject: read("X509v3 Subject Key Identifier"),
    authority: read("X509v3 Authority Key Identifier"),
  };
};

describe("two emulators trusted at once (both CAs in one trust list, as in NODE_EXTRA_CA_CERTS)", () => {
  it("give every CA a distinct subject and every certificate key identifiers", async () => {
    const subjects = [first, second].flatMap((e) => [
      new X509Certificate(e.caCertificatePem).subject,
      new X509Certificate(e.managedIdentityCaPem).subject,
      new X509Certificate(e.serviceFabricCertificatePem).subject,
    ]);
    expect(new Set(subjects).size).toBe(6);

    for (const emu of [first, second]) {
      const ca = keyIds(emu.caCertificatePem);
      expect(ca.subject).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
      const server = keyIds((await presented(emu.authorityHost)).toString());
      expect(server.authority).toBe(ca.subject);
      expect(server.subject).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
      const serviceFabric = keyIds(emu.serviceFabricCertificatePem);
      expect(serviceFabric.subject).toBe(serviceFabric.authority);
    }
  });

  it("lets one client that trusts both reach both, in either order", async () => {
    for (const trusted of [
      `${first.caCertificatePem}${second.caCertificatePem}`,
      `${second.caCertificatePem}${first.caCertificatePem}`,
    ]) {
      for (const emu of [first, second]) {
        const r = await send(`${emu.authorityHost}/${emu.tenantId}/v2.0/.well-known/openid-configuration`, {
          ca: trusted,
        });
        expect(r.status, r.body).toBe(200);
      }
    }
  });

  it("lets a client trust the Service Fabric certificates of both (what msal-node needs: it does not pin)", async () => {
    const trusted = `${first.serviceFabricCertificatePem}${second.serviceFabricCertificatePem}`;
    for (const emu of [second, first]) {
      const env = emu.managedIdentityEnvironment("serviceFabric");
      const r = await send(`${env.IDENTITY_ENDPOINT}?api-version=2020-05-01&resource=https://r.example`, {
        headers: { secret: env.IDENTITY_HEADER as string },
        ca: trusted,
      });
      expect(r.status, r.body).toBe(200);
    }
  });
});

describe("Azure Arc key file folder", () => {
  const canWriteAgentFolder =
    process.platform === "linux" && process.getuid?.() === 0 && !existsSync(AZURE_ARC_AGENT_EXECUTABLE);

  it("defaults to the agent's folder where writable (Linux as root, as in CI), else a temporary one", async () => {
    const emu = await startEmulator();
    try {
      if (canWriteAgentFolder) expect(emu.arcTokenFolder).toBe(AZURE_ARC_AGENT_TOKEN_FOLDER);
      else expect(dirname(emu.arcTokenFolder)).toBe(tmpdir());
      const env = emu.managedIdentityEnvironment("azureArc");
      const challenge = await send(`${env.IDENTITY_ENDPOINT}?api-version=2020-06-01&resource=https://r`, {
        headers: { Metadata: "true" },
      });
      const realm = /^Basic realm=(.+)$/.exec(challenge.headers["www-authenticate"] ?? "")?.[1] as string;
      // msal-node accepts exactly `/var/opt/azcmagent/tokens/` + the file name.
      expect(realm).toBe(`${emu.arcTokenFolder}/${realm.split("/").at(-1)}`);
      expect(realm).toMatch(/\/[0-9a-f]{16}\.key$/);
      expect(existsSync(realm)).toBe(true);
      // A file that is not this emulator's (the agent's, another emulator's) is left alone.
      const foreign = join(emu.arcTokenFolder, `foreign-${process.pid}.key`);
      writeFileSync(foreign, "not mine");
      try {
        await emu.close();
        expect(existsSync(realm)).toBe(false);
        expect(readFileSync(foreign, "utf8")).toBe("not mine");
      } finally {
        rmSync(foreign, { force: true });
      }
    } finally {
      await emu.close();
    }
  });

  it("leaves a real agent's folder alone unless asked for it by path", async () => {
    const machine = tempDir();
    const agent = {
      folder: join(machine, "var-opt-azcmagent", "tokens"),
      executable: join(machine, "himds"),
    };
    const withoutAgent = await openArcTokenFolder(undefined, agent);
    if (process.platform === "linux") expect(withoutAgent.path).toBe(agent.folder);
    await withoutAgent.close();
    writeFileSync(agent.executable, "");
    const withAgent = await openArcTokenFolder(undefined, agent);
    expect(dirname(withAgent.path)).toBe(tmpdir());
    await withAgent.close();
    const asked = await openArcTokenFolder(agent.folder, agent);
    expect(asked.path).toBe(agent.folder);
    await asked.close();
    rmSync(machine, { recursive: true, force: true });
  });

  it('uses a temporary folder with "temporary" and removes it on close', async () => {
    const emu = await startEmulator({ arcTokenFolder: "temporary" });
    expect(dirname(emu.arcTokenFolder)).toBe(tmpdir());
    expect(existsSync(emu.arcTokenFolder)).toBe(true);
    await emu.close();
    expect(existsSync(emu.arcTokenFolder)).toBe(false);
  });

  it("creates a given folder, removes its own files and the folder it made, and refuses one it cannot write", async () => {
    const parent = tempDir();
    const folder = join(parent, "agent", "tokens");
    const emu = await startEmulator({ arcTokenFolder: folder });
    expect(emu.arcTokenFolder).toBe(folder);
    const env = emu.managedIdentityEnvironment("azureArc");
    await send(`${env.IDENTITY_ENDPOINT}?api-version=2020-06-01&resource=https://r`, {
      headers: { Metadata: "true" },
    });
    expect(readdirSync(folder)).toHaveLength(1);
    await emu.close();
    expect(readdirSync(parent)).toEqual([]);

    const file = writeIn(parent, "a-file", "x");
    await expect(startEmulator({ arcTokenFolder: join(file, "tokens") })).rejects.toMatchObject({
      code: "invalid_options",
      message: expect.stringMatching(/arcTokenFolder.*cannot be created or written/),
    });
    await expect(startEmulator({ arcTokenFolder: "" })).rejects.toMatchObject({ code: "invalid_options" });
    rmSync(parent, { recursive: true, force: true });
  });
});
