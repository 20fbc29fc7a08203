// Pool keys and TLS contexts (issue 12, items 19 and 23): keyed by the certificate an identity
// really carries, and built once per identity and CA set.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import { pathToFileURL } from "node:url";
import { type HttpsTestServer, startHttpsTestServer } from "@certbound/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CertificateAuthority,
  createCertificateAuthority,
  type IssuedCertificate,
} from "../../src/credential-kit/index";
import { identityPoolId, poolScope, secureContextFor } from "../../src/transport-kit/index";

let ca: CertificateAuthority;
let a: IssuedCertificate;
let b: IssuedCertificate;

beforeAll(() => {
  ca = createCertificateAuthority();
  a = ca.issue({ commonName: "A" });
  b = ca.issue({ commonName: "B" });
});

describe("identityPoolId", () => {
  it("is computed from the certificate: copies of an identity share it, another certificate does not", () => {
    expect(identityPoolId(a)).toBe(identityPoolId({ ...a }));
    expect(identityPoolId(a).startsWith(`${a.x5tS256}.`)).toBe(true);
    expect(identityPoolId(b)).not.toBe(identityPoolId(a));
  });

  it("refuses a forged identity whose x5tS256 names another certificate (tls_handshake_failed)", () => {
    expect(() => identityPoolId({ ...b, x5tS256: a.x5tS256 }, "@x/t")).toThrow(
      expect.objectContaining({ code: "tls_handshake_failed", message: expect.stringContaining("@x/t") }),
    );
    expect(() =>
      poolScope({ transportCas: [], identity: { ...b, x5tS256: a.x5tS256 }, ca: undefined, pin: undefined }),
    ).toThrow(expect.objectContaining({ code: "tls_handshake_failed" }));
  });

  it("differs when the same certificate comes with another private key", () => {
    expect(identityPoolId({ ...a, privateKey: b.privateKey })).not.toBe(identityPoolId(a));
  });
});

describe("secureContextFor", () => {
  it("builds one context per identity and CA set, and another for another CA set", () => {
    const cas = [ca.certificatePem];
    const first = secureContextFor(a, cas);
    expect(secureContextFor(a, [ca.certificatePem])).toBe(first);
    expect(secureContextFor(a, [])).not.toBe(first);
    expect(secureContextFor(b, cas)).not.toBe(first);
    expect(secureContextFor(undefined, cas)).toBe(secureContextFor(undefined, cas));
  });
});

// NODE_EXTRA_CA_CERTS is read once per process, so its handling is checked in a child process:
// a CA found only in that file must still be trusted by a pool that has its own `ca` too, even
// though roots Node already bundles are no longer added again.
describe("NODE_EXTRA_CA_CERTS with a pool's own ca", () => {
  let extraCa: CertificateAuthority;
  let server: HttpsTestServer;
  let dir: string;

  beforeAll(async () => {
    extraCa = createCertificateAuthority({ commonName: "only in NODE_EXTRA_CA_CERTS" });
    server = await startHttpsTestServer({ authority: extraCa, handler: (_req, res) => void res.end("ok") });
    dir = mkdtempSync(join(tmpdir(), "certbound-extra-ca-"));
    // A bundled root first (skipped as a duplicate), then the CA that only this file has.
    writeFileSync(join(dir, "extra.pem"), `${rootCertificates[0]}\n${extraCa.certificatePem}`);
  });

  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("still trusts the file's own CA", async () => {
    const kit = pathToFileURL(join(__dirname, "../../dist/transport-kit.js")).href;
    const script = `
      import { connect } from "node:tls";
      const { secureContextFor } = await import(${JSON.stringify(kit)});
      const other = ${JSON.stringify(ca.certificatePem)};
      const socket = connect({ host: "127.0.0.1", port: ${server.port}, servername: "localhost",
        secureContext: secureContextFor(undefined, [other]), rejectUnauthorized: false }, () => {
        console.log(JSON.stringify({ authorized: socket.authorized, error: String(socket.authorizationError ?? "") }));
        socket.destroy();
      });
      socket.on("error", (e) => { console.log(JSON.stringify({ authorized: false, error: e.message })); });
    `;
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
        env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, "extra.pem") },
        stdio: ["ignore", "pipe", "inherit"],
      });
      let out = "";
      child.stdout.on("data", (chunk) => {
        out += chunk;
      });
      child.on("error", reject);
      child.on("close", () => resolve(out));
    });
    expect(JSON.parse(output.trim())).toEqual({ authorized: true, error: "" });
  });
});
