// `certbound call`, the built binary against the emulator's protected resource and against a
// resource of our own that challenges, lies and echoes secrets.
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createCertificateAuthority } from "@certbound/core/credential-kit";
import type { Emulator } from "@certbound/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certbound, cleanEnv, emulatorWithCaFile, mask, tempDir, underPty } from "./helpers";

let dir: string;
let emu: Emulator;
let caFile: string;
let hostile: Server;
let hostileUrl: string;
let hostileCaFile: string;

beforeAll(async () => {
  dir = tempDir();
  ({ emu, caFile } = await emulatorWithCaFile(dir));
  // A resource that asks for a client certificate but trusts any, and misbehaves by path.
  const ca = createCertificateAuthority();
  const server = ca.issue({ commonName: "127.0.0.1", subjectAltNames: ["127.0.0.1"], usage: "server" });
  hostileCaFile = join(dir, "hostile-ca.pem");
  writeFileSync(hostileCaFile, ca.certificatePem);
  hostile = createServer(
    { cert: server.certificatePem, key: server.keyPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      if (req.url === "/claims") {
        const claims = Buffer.from('{"access_token":{"acrs":{"essential":true,"value":"c1"}}}').toString(
          "base64",
        );
        res.writeHead(401, {
          "www-authenticate": `Bearer realm="", error="insufficient_claims", error_description="A claims challenge", claims="${claims}"`,
        });
        res.end("{}");
      } else if (req.url === "/echo") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end(`you sent: ${req.headers.authorization}\n`);
      } else if (req.url === "/escape") {
        res.writeHead(500, { "x-evil": "a" });
        res.end("\u001b]0;pwned\u0007\u001b[31mred\n");
      } else {
        res.writeHead(404);
        res.end();
      }
    },
  );
  await new Promise<void>((resolve) => hostile.listen(0, "127.0.0.1", resolve));
  hostileUrl = `https://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await emu?.close();
  await new Promise((resolve) => hostile?.close(resolve));
});

const mi = () => [
  "--imds-endpoint",
  emu.imdsEndpoint,
  "--mtls-authority-host",
  emu.mtlsAuthorityHost,
  "--ca",
  caFile,
];

describe("certbound call", () => {
  it("calls the resource over mTLS with the binding certificate: status on stderr, body on stdout", async () => {
    const run = await certbound(["call", `${emu.resourceUrl}/orders`, ...mi()]);
    expect(run.code).toBe(0);
    const body = JSON.parse(run.stdout);
    expect(body).toMatchObject({ tokenType: "mtls_pop", method: "GET", path: "/orders" });
    expect(run.stderr).toContain(`x5t#S256 ${body.clientCertificateX5tS256}`);
    expect(mask(run.stderr)).toMatchSnapshot();
  });

  it("POST with headers and a body from -d, --json output, -o writes the body to a file", async () => {
    const output = join(dir, "out.json");
    const run = await certbound([
      "call",
      `${emu.resourceUrl}/items`,
      "-H",
      "Content-Type: application/json",
      "-d",
      '{"a":1}',
      "-o",
      output,
      "--json",
      ...mi(),
    ]);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out).toMatchObject({ status: 200, body: null, output, tokenType: "mtls_pop" });
    expect(out).not.toHaveProperty("accessToken");
    expect(JSON.parse(readFileSync(output, "utf8"))).toMatchObject({ method: "POST", path: "/items" });
  });

  it("a token for another audience: exit code 3 and the 401 explained", async () => {
    const run = await certbound([
      "call",
      `${emu.resourceUrl}/x`,
      "--resource",
      "https://other.example",
      ...mi(),
    ]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/\[resource_unauthorized\]: .*another audience.*wrong_audience/);
    expect(run.stderr).toContain("fix: ");
  });

  it("a claims challenge is decoded and explained (exit code 3)", async () => {
    const run = await certbound([
      "call",
      `${hostileUrl}/claims`,
      "--resource",
      emu.resourceUrl,
      ...mi(),
      "--ca",
      hostileCaFile,
    ]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("✗ HTTP 401");
    expect(run.stderr).toContain("[resource_unauthorized] fix: ");
    expect(run.stderr).toContain(
      'claims challenge: the resource wants a token with more claims (A claims challenge). Requested claims: {"access_token":{"acrs":{"essential":true,"value":"c1"}}}',
    );
  });

  it("a resource that echoes the token never gets it printed", async () => {
    const token = (await certbound(["token", "--raw", "--resource", emu.resourceUrl, ...mi()])).stdout.trim();
    const run = await certbound([
      "call",
      `${hostileUrl}/echo`,
      "--resource",
      emu.resourceUrl,
      ...mi(),
      "--ca",
      hostileCaFile,
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("you sent: Bearer [redacted]");
    // A new token each process: check no part of any JWT made it through.
    expect(run.stdout).not.toMatch(/eyJ[\w-]{10,}/);
    expect(token.length).toBeGreaterThan(100);
  });

  it("an error status gives exit code 7; headers with -i are printable text", async () => {
    const run = await certbound([
      "call",
      `${hostileUrl}/escape`,
      "-i",
      "--resource",
      emu.resourceUrl,
      ...mi(),
      "--ca",
      hostileCaFile,
    ]);
    expect(run.code).toBe(7);
    expect(run.stdout).toContain("x-evil: a");
    expect(run.stderr).toContain("[http_error] fix: The resource answered with an error status");
  });

  it("on a terminal, a body's escape sequences are neutralised (no retitled window, no colours)", async () => {
    const run = await underPty(
      ["call", `${hostileUrl}/escape`, "--resource", emu.resourceUrl, ...mi(), "--ca", hostileCaFile],
      cleanEnv({ TERM: "xterm", NO_COLOR: "1" }),
    );
    expect(run.code).toBe(7);
    expect(run.screen).toContain("]0;pwned");
    expect(run.screen).not.toContain("\u001b]0;pwned");
    expect(run.screen).not.toContain("\u001b[31mred");
  });

  it.each([
    [["http://127.0.0.1:1/x"], "an absolute https:// URL"],
    [["https://127.0.0.1:1/x", "-H", "X-A: b\r\nInjected: 1"], "control character"],
    [["https://127.0.0.1:1/x", "-H", "Authorization: Bearer abc"], "sets Authorization itself"],
    [["https://127.0.0.1:1/x", "-X", "DELETE"], "GET or POST"],
  ])("refuses %j before any request: usage exit code 2", async (args, message) => {
    const run = await certbound(["call", ...args, "--imds-endpoint", "http://127.0.0.1:1"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("[usage]");
    expect(run.stderr).toContain(message);
  });
});
