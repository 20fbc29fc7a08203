import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createCertificateAuthority } from "@certbound/core/credential-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCliArgs } from "../src/cli-options";
import { send, tempDir, writeIn } from "./helpers";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const rootTsconfig = fileURLToPath(new URL("../../../tsconfig.json", import.meta.url));
let dir: string;

beforeAll(() => {
  dir = tempDir();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Printed {
  tenantId: string;
  imdsEndpoint: string;
  authorityHost: string;
  mtlsAuthorityHost: string;
  resourceUrl: string;
  caFile: string;
  confidentialClients: string[];
  userAssignedIdentities: Array<{ clientId: string }>;
  environment: Record<string, string>;
  sources: Record<string, Record<string, string>>;
}

/** Starts the CLI from source; tsx maps @certbound/core to its sources through the root tsconfig. */
function startCli(args: string[]): {
  child: ChildProcess;
  output: Promise<string>;
  exit: Promise<number | null>;
} {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], {
    cwd: packageDir,
    env: { ...process.env, TSX_TSCONFIG_PATH: rootTsconfig },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const output = new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (c: Buffer) => {
      stdout += c.toString();
      if (/\n\{.*\}\n$|^\{.*\}\n$|Ready\. Press Ctrl\+C/s.test(stdout)) resolve(stdout);
    });
    child.on("exit", (code) => reject(new Error(`CLI exited with ${code} before it was ready: ${stderr}`)));
  });
  return { child, output, exit };
}

async function stop(
  child: ChildProcess,
  exit: Promise<number | null>,
  signal: NodeJS.Signals,
): Promise<number> {
  const started = performance.now();
  child.kill(signal);
  const code = await exit;
  const elapsed = performance.now() - started;
  expect(code).toBe(0);
  return elapsed;
}

describe("certbound-emulator CLI", () => {
  it("starts, registers identities, writes the CA, prints JSON and stops on SIGTERM within 1 s", async () => {
    const app = createCertificateAuthority().issue({ commonName: "cli-app" });
    const certFile = writeIn(dir, "app.pem", app.certificatePem);
    const configFile = writeIn(
      dir,
      "config.json",
      JSON.stringify({ location: "northeurope", managedIdentities: [{ clientId: "cli-uami-from-config" }] }),
    );
    const caFile = join(dir, "ca.pem");
    const { child, output, exit } = startCli([
      "--json",
      "--config",
      configFile,
      "--ca-file",
      caFile,
      "--client",
      `cli-app=${certFile}`,
      "--managed-identity",
      "new",
    ]);
    try {
      const printed = JSON.parse((await output).trim()) as Printed;
      expect(printed.caFile).toBe(caFile);
      expect(printed.confidentialClients).toEqual(["cli-app"]);
      expect(printed.userAssignedIdentities).toHaveLength(2);
      expect(printed.userAssignedIdentities[0]?.clientId).toBe("cli-uami-from-config");
      expect(printed.environment).toEqual({
        NODE_EXTRA_CA_CERTS: caFile,
        AZURE_POD_IDENTITY_AUTHORITY_HOST: printed.imdsEndpoint,
      });
      expect(Object.keys(printed.sources)).toHaveLength(6);

      const compute = await send(`${printed.imdsEndpoint}/metadata/instance/compute?api-version=2021-02-01`, {
        headers: { Metadata: "true" },
      });
      expect(compute.json.location).toBe("northeurope");
      const ca = readFileSync(caFile, "utf8");
      const discovery = await send(
        `${printed.authorityHost}/${printed.tenantId}/v2.0/.well-known/openid-configuration`,
        {
          ca,
        },
      );
      expect(discovery.status).toBe(200);
      const pop = await send(`${printed.mtlsAuthorityHost}/${printed.tenantId}/oauth2/v2.0/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          client_id: "cli-app",
          grant_type: "client_credentials",
          scope: `${printed.resourceUrl}/.default`,
          token_type: "mtls_pop",
        }).toString(),
        ca,
        cert: app.certificatePem,
        key: app.keyPem,
      });
      expect(pop.status, pop.body).toBe(200);
    } finally {
      const elapsed = await stop(child, exit, "SIGTERM");
      expect(elapsed).toBeLessThan(1000);
    }
    // A CA file the user named stays.
    expect(existsSync(caFile)).toBe(true);
  });

  it("prints the URLs and the environment to export, and stops on SIGINT within 1 s", async () => {
    const { child, output, exit } = startCli([]);
    let caFile = "";
    try {
      const text = await output;
      expect(text).toMatch(/IMDS\s+http:\/\/127\.0\.0\.1:\d+/);
      expect(text).toMatch(/Entra \(mTLS host\)\s+https:\/\/127\.0\.0\.1:\d+\//);
      expect(text).toMatch(/export AZURE_POD_IDENTITY_AUTHORITY_HOST=http:\/\/127\.0\.0\.1:\d+/);
      expect(text).toMatch(/export IDENTITY_SERVER_THUMBPRINT=[0-9A-F]{40}/);
      caFile = /export NODE_EXTRA_CA_CERTS=(\S+)/.exec(text)?.[1] ?? "";
      expect(readFileSync(caFile, "utf8")).toContain("BEGIN CERTIFICATE");
    } finally {
      expect(await stop(child, exit, "SIGINT")).toBeLessThan(1000);
    }
    // The temporary CA file is removed on exit.
    expect(existsSync(caFile)).toBe(false);
  });
});

/** Runs the CLI from source to its end; resolves with its exit code and output. */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], {
    cwd: packageDir,
    env: { ...process.env, TSX_TSCONFIG_PATH: rootTsconfig },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

describe("certbound-emulator --version", () => {
  it("prints the package version and exits 0 without starting anything (also as -v)", async () => {
    const { version } = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as {
      version: string;
    };
    for (const flag of ["--version", "-v"]) {
      const run = await runCli([flag]);
      expect(run).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
    }
    expect(parseCliArgs(["--version"]).version).toBe(true);
    expect(parseCliArgs([]).version).toBe(false);
  });
});

describe("CLI arguments", () => {
  it("maps flags to emulator options, flags winning over the config file", () => {
    const config = writeIn(
      dir,
      "c.json",
      JSON.stringify({ tenantId: "from-config", ports: { imds: 1 }, location: "x" }),
    );
    const o = parseCliArgs(
      [
        "--config",
        config,
        "--imds-port",
        "8080",
        "--mtls-port",
        "8443",
        "--tenant-id",
        "from-flag",
        "--token-lifetime",
        "86400",
        "--imds-v1-only",
        "--pop-only",
        "--audience",
        "api://a",
        "--audience",
        "api://b",
        "--managed-identity",
        "abc",
      ],
      dir,
    );
    expect(o.emulator).toMatchObject({
      tenantId: "from-flag",
      ports: { imds: 8080, mtls: 8443 },
      location: "x",
      tokenLifetimeSeconds: 86400,
      imdsV2: false,
      resourceAcceptsBearer: false,
      resourceAudiences: ["api://a", "api://b"],
    });
    expect(o.managedIdentities).toEqual([{ clientId: "abc" }]);
    expect(o.caFileIsTemporary).toBe(true);
  });

  it("maps the Azure Arc and replay flags", () => {
    expect(parseCliArgs([], dir).emulator).not.toHaveProperty("arcTokenFolder");
    expect(
      parseCliArgs(["--arc-token-folder", "arc", "--arc-legacy-agent", "--reject-replayed-assertions"], dir)
        .emulator,
    ).toMatchObject({
      arcTokenFolder: join(dir, "arc"),
      azureArcAgent: "legacy",
      rejectReplayedAssertions: true,
    });
    expect(parseCliArgs(["--arc-token-folder", "temporary"], dir).emulator.arcTokenFolder).toBe("temporary");
  });

  it("refuses bad flags with a message", () => {
    expect(() => parseCliArgs(["--imds-port", "eighty"])).toThrow(/whole number/);
    expect(() => parseCliArgs(["--client", "no-equals"])).toThrow(/<clientId>=<certificate.pem>/);
    expect(() => parseCliArgs(["--client", "a=/does/not/exist.pem"])).toThrow(/could not read/);
    expect(() => parseCliArgs(["--unknown"])).toThrow();
    expect(() => parseCliArgs(["--config", "/does/not/exist.json"])).toThrow(/config file/);
  });
});
