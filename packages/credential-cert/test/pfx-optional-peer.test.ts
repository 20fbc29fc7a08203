// node-forge is an optional peer dependency, needed for PFX files only. These tests run the built
// package (dist/, ESM and CommonJS) in child `node` processes: once where node-forge cannot be
// found, as in an app that installed only @certbound/credential-cert, and once in this workspace,
// where it is installed, to see that PEM certificates never load it.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeSelfSignedPair } from "./pfx-variants";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const coreDir = join(packageDir, "../core");
const PASS = "peer passphrase";

let dir: string;
let app: string;
let inside: string;
beforeAll(() => {
  for (const dist of [join(packageDir, "dist/index.js"), join(coreDir, "dist/index.js")]) {
    if (!existsSync(dist)) throw new Error(`${dist} is missing: build first (pnpm exec turbo run build)`);
  }
  dir = mkdtempSync(join(tmpdir(), "certbound-no-forge-"));
  const openssl = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  makeSelfSignedPair(openssl, "peer");
  openssl([
    "pkcs12",
    "-export",
    "-in",
    "cert.pem",
    "-inkey",
    "key.pem",
    "-out",
    "app.pfx",
    "-passout",
    `pass:${PASS}`,
  ]);
  // An app folder with the two packages and nothing else: node-forge is not installed.
  app = join(dir, "app");
  const modules = join(app, "node_modules/@certbound");
  mkdirSync(join(modules, "credential-cert"), { recursive: true });
  cpSync(join(packageDir, "dist"), join(modules, "credential-cert/dist"), { recursive: true });
  cpSync(join(packageDir, "package.json"), join(modules, "credential-cert/package.json"));
  symlinkSync(coreDir, join(modules, "core"), "dir");
  // A folder inside the package, where its name resolves to itself and node-forge (a devDependency
  // here) is installed.
  inside = mkdtempSync(join(packageDir, ".peer-test-"));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (inside) rmSync(inside, { recursive: true, force: true });
});

// What the child does with each form of certificate; prints one JSON line.
const body = (load: string) => `
const { loadCertificate, readPfx, createConfidentialClient } = ${load};
const fs = req("node:fs");
const path = req("node:path");
const at = (name) => path.join(process.env.CERTS_DIR, name);
const outcome = (fn) => {
  try { return { ok: fn() }; } catch (error) { return { code: error.code, message: error.message }; }
};
const forgeLoaded = () => Object.keys(req.cache).some((file) => file.includes("node-forge"));
const pem = outcome(() => loadCertificate({ certificatePem: fs.readFileSync(at("cert.pem")), privateKeyPem: fs.readFileSync(at("key.pem")) }).binding.x5tS256);
const afterPem = forgeLoaded();
const pfx = outcome(() => readPfx(fs.readFileSync(at("app.pfx")), ${JSON.stringify(PASS)}).certificates.length);
const client = outcome(() => typeof createConfidentialClient({
  clientId: "app",
  authority: "https://login.microsoftonline.com/contoso.onmicrosoft.com",
  certificate: { pfx: fs.readFileSync(at("app.pfx")), passphrase: ${JSON.stringify(PASS)} },
  transport: { send: () => Promise.reject(new Error("no network here")) },
  env: {},
}));
console.log(JSON.stringify({ pem, afterPem, pfx, client, afterPfx: forgeLoaded() }));
`;

const SCRIPTS = {
  esm: {
    file: "main.mjs",
    source: `import { createRequire } from "node:module";\nconst req = createRequire(import.meta.url);\n${body('await import("@certbound/credential-cert")')}`,
  },
  cjs: { file: "main.cjs", source: `const req = require;\n${body('require("@certbound/credential-cert")')}` },
};

interface Outcome {
  ok?: unknown;
  code?: string;
  message?: string;
}
interface Report {
  pem: Outcome;
  afterPem: boolean;
  pfx: Outcome;
  client: Outcome;
  afterPfx: boolean;
}

function runIn(folder: string, kind: keyof typeof SCRIPTS): Report {
  const { file, source } = SCRIPTS[kind];
  writeFileSync(join(folder, file), source);
  const { NODE_PATH: _ignored, ...env } = process.env;
  const child = spawnSync(process.execPath, [join(folder, file)], {
    cwd: folder,
    env: { ...env, CERTS_DIR: dir },
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(child.stderr).toBe("");
  expect(child.status).toBe(0);
  return JSON.parse(child.stdout.trim()) as Report;
}

const x5t = () => {
  const der = Buffer.from(
    readFileSync(join(dir, "cert.pem"), "utf8").replace(/-----[A-Z ]+-----|\s/g, ""),
    "base64",
  );
  return createHash("sha256").update(der).digest("base64url");
};

describe("credential-cert without node-forge installed", () => {
  it("cannot resolve node-forge from the app folder (the premise of the next test)", () => {
    const probe = spawnSync(process.execPath, ["-e", 'require.resolve("node-forge")'], {
      cwd: app,
      env: { ...process.env, NODE_PATH: "" },
      encoding: "utf8",
    });
    expect(probe.status).not.toBe(0);
    expect(probe.stderr).toMatch(/Cannot find module 'node-forge'/);
  });

  it.each(["esm", "cjs"] as const)(
    "(%s) reads PEM, and says how to install node-forge when given a PFX",
    (kind) => {
      const report = runIn(app, kind);
      expect(report.pem).toEqual({ ok: x5t() });
      const named = {
        code: "invalid_options",
        message:
          "@certbound/credential-cert: Reading a PFX needs the optional peer dependency node-forge: npm install node-forge@1.",
      };
      expect(report.pfx).toEqual(named);
      // A fixed PFX certificate is read when the client is created: the same error, right there.
      expect(report.client).toEqual(named);
    },
  );
});

describe("credential-cert with node-forge installed", () => {
  it.each(["esm", "cjs"] as const)("(%s) loads node-forge for the first PFX, not for PEM", (kind) => {
    const report = runIn(inside, kind);
    expect(report.pem).toEqual({ ok: x5t() });
    expect(report.afterPem).toBe(false);
    expect(report.pfx).toEqual({ ok: 1 });
    expect(report.client).toEqual({ ok: "object" });
    expect(report.afterPfx).toBe(true);
  });
});
