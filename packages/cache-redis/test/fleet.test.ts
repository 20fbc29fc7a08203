// Issue 16: several processes, each a certbound confidential client on the same Redis, miss one key
// together against the emulator: one token request for the whole fleet. Then the lease holder is
// SIGKILLed while its request hangs: its lease expires and another process completes.
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBindingCertificate, createCertificateAuthority } from "@certbound/core/credential-kit";
import { type Emulator, startEmulator } from "@certbound/emulator";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { type RedisServer, startRedisServer } from "./redis-server";

let emu: Emulator;
let redis: RedisServer;
let dir: string;
const key = Buffer.alloc(32, 5).toString("base64");

beforeAll(async () => {
  [emu, redis] = await Promise.all([startEmulator(), startRedisServer()]);
  dir = mkdtempSync(join(tmpdir(), "certbound-fleet-"));
  writeFileSync(join(dir, "emulator-ca.pem"), emu.caCertificatePem);
});
afterAll(async () => {
  await emu?.close();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => emu.resetStats());

interface Member {
  child: ChildProcess;
  stderr: () => string;
  ready: Promise<void>;
  result: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>;
}

function member(config: object): Member {
  const child = spawn(process.execPath, [join(__dirname, "fleet-app.mjs")], {
    cwd: join(__dirname, ".."),
    env: {
      ...process.env,
      NODE_EXTRA_CA_CERTS: join(dir, "emulator-ca.pem"),
      APP_CONFIG: JSON.stringify(config),
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes("ready\n")) markReady();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const result = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal, out })),
  );
  return { child, stderr: () => err, ready, result };
}

function fleetConfig(leaseMs: number) {
  const cert = createCertificateAuthority({ commonName: "fleet CA" }).issue({ commonName: "fleet-app" });
  const clientId = randomUUID();
  emu.registerConfidentialClient({ clientId, certificatePem: cert.certificatePem });
  const x5t = createBindingCertificate({
    certificate: cert.certificatePem,
    privateKey: cert.privateKey,
  }).x5tS256;
  return {
    x5t,
    config: {
      redisUrl: redis.url,
      key,
      leaseMs,
      concurrency: 5,
      clientId,
      authority: `${emu.authorityHost}/${emu.tenantId}`,
      mtlsAuthorityHost: emu.mtlsAuthorityHost,
      certificatePem: cert.certificatePem,
      keyPem: cert.keyPem,
      scope: `${emu.resourceUrl}/.default`,
    },
  };
}

const tokenRequests = () => emu.stats().requests.mtlsToken + emu.stats().requests.token;
const parse = (out: string) =>
  JSON.parse(out.split("\n").find((line) => line.startsWith("{")) as string) as {
    sources: string[];
    tokens: string[];
    x5t: string[];
  };

// Each test starts node child processes: on a loaded 2-core machine their start-up alone can take
// seconds, so these get more than vitest's default 5 s.
it("4 processes x 5 concurrent calls on a cold key make exactly 1 token request", {
  timeout: 20_000,
}, async () => {
  const { config, x5t } = fleetConfig(15_000);
  const fleet = [0, 1, 2, 3].map(() => member(config));
  await Promise.all(fleet.map((m) => m.ready));
  for (const m of fleet) m.child.stdin?.end("go\n");
  const results = await Promise.all(fleet.map((m) => m.result));
  for (const [i, r] of results.entries()) expect(r.code, fleet[i]?.stderr()).toBe(0);
  expect(tokenRequests()).toBe(1);
  const outputs = results.map((r) => parse(r.out));
  const tokens = new Set(outputs.flatMap((o) => o.tokens));
  expect(tokens.size).toBe(1);
  expect(outputs.flatMap((o) => o.x5t)).toEqual([x5t, x5t, x5t, x5t]);
  // One process acquired (its 5 callers shared that flight); the others read it from Redis.
  expect(outputs.filter((o) => o.sources.includes("identity_provider"))).toHaveLength(1);
  expect(outputs.filter((o) => o.sources.every((s) => s === "cache"))).toHaveLength(3);
});

it("a lease holder SIGKILLed mid-acquisition loses its lease when it expires; another process completes", {
  timeout: 20_000,
}, async () => {
  const { config, x5t } = fleetConfig(1500);
  // The first token request hangs: its process is the lease holder.
  emu.injectFault("mtlsToken", { hang: true, count: 1 });
  const fleet = [0, 1, 2].map(() => member(config));
  await Promise.all(fleet.map((m) => m.ready));
  for (const m of fleet) m.child.stdin?.end("go\n");
  // Wait (on the emulator's own record and the children's output, no timer) until the holder's
  // request hangs there and its log line has reached us: the two arrive on different pipes, in
  // either order.
  const holding = () => fleet.find((m) => m.stderr().includes("took the fleet lease"));
  while (tokenRequests() === 0 || holding() === undefined) await new Promise((r) => setImmediate(r));
  const holder = holding();
  expect(holder).toBeDefined();
  holder?.child.kill("SIGKILL");
  const survivors = fleet.filter((m) => m !== holder);
  const results = await Promise.all(survivors.map((m) => m.result));
  for (const [i, r] of results.entries()) expect(r.code, survivors[i]?.stderr()).toBe(0);
  expect((await holder?.result)?.signal).toBe("SIGKILL");
  // The hung request, then one by the process that took over.
  expect(tokenRequests()).toBe(2);
  const outputs = results.map((r) => parse(r.out));
  expect(new Set(outputs.flatMap((o) => o.tokens)).size).toBe(1);
  expect(outputs.flatMap((o) => o.x5t)).toEqual([x5t, x5t]);
});
