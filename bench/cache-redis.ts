// `node --import tsx cache-redis.ts` (in bench/, after a build): the numbers of
// packages/cache-redis/README.md. Starts a redis-server (Debian's package) and the emulator.
//   1. fleet stampede: 4 processes x 250 concurrent cold acquisitions of one key, with the Redis
//      store (token requests must be 1) and without it (each process its own: 4)
//   2. local-level hit: a token manager's cache hit with the Redis store vs the memory store
//   3. Redis-level hit: the store's get (GET + AES-GCM open) vs a bare GET on the same connection
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRedisCacheStore } from "@certbound/cache-redis";
import { type CacheStore, createMemoryCacheStore } from "@certbound/core";
import { createCertificateAuthority, createTokenManager } from "@certbound/core/credential-kit";
import { startEmulator } from "@certbound/emulator";
import { createClient } from "redis";
import { startRedisServer } from "../packages/cache-redis/test/redis-server";
import { median } from "./measure-tools";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, "..", "packages", "cache-redis");
const key = { id: "k1", key: Buffer.alloc(32, 1) };
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)] as number;

const redis = await startRedisServer();
const emu = await startEmulator();
const scratch = mkdtempSync(join(tmpdir(), "certbound-bench-redis-"));
writeFileSync(join(scratch, "ca.pem"), emu.caCertificatePem);
const lines: string[] = [];
try {
  // ---- 1. fleet stampede ----
  async function stampede(withRedis: boolean): Promise<{ requests: number; wallMs: number }> {
    const cert = createCertificateAuthority({ commonName: "bench fleet CA" }).issue({ commonName: "fleet" });
    const clientId = randomUUID();
    emu.registerConfidentialClient({ clientId, certificatePem: cert.certificatePem });
    emu.resetStats();
    const config = {
      redisUrl: withRedis ? redis.url : null,
      key: key.key.toString("base64"),
      leaseMs: 15_000,
      concurrency: 250,
      clientId,
      authority: `${emu.authorityHost}/${emu.tenantId}`,
      mtlsAuthorityHost: emu.mtlsAuthorityHost,
      certificatePem: cert.certificatePem,
      keyPem: cert.keyPem,
      scope: `${emu.resourceUrl}/.default`,
    };
    const children = [0, 1, 2, 3].map(() => {
      const child = spawn(process.execPath, [join(pkg, "test", "fleet-app.mjs")], {
        cwd: pkg,
        env: {
          ...process.env,
          NODE_EXTRA_CA_CERTS: join(scratch, "ca.pem"),
          APP_CONFIG: JSON.stringify(config),
        },
        stdio: ["pipe", "pipe", "ignore"],
      });
      let out = "";
      let markReady!: () => void;
      let markDone!: () => void;
      const ready = new Promise<void>((resolve) => {
        markReady = resolve;
      });
      // Done when the process has printed its results (before it closes its client).
      const done = new Promise<void>((resolve, reject) => {
        markDone = resolve;
        child.once("exit", (code) =>
          code === 0 ? resolve() : reject(new Error(`a fleet process exited ${code}`)),
        );
      });
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString();
        if (out.includes("ready\n")) markReady();
        if (out.includes("{")) markDone();
      });
      return { child, ready, done };
    });
    await Promise.all(children.map((c) => c.ready));
    const t0 = performance.now();
    for (const c of children) c.child.stdin.end("go\n");
    await Promise.all(children.map((c) => c.done));
    const wallMs = performance.now() - t0;
    const s = emu.stats().requests;
    return { requests: s.mtlsToken + s.token, wallMs };
  }
  const only = process.env.BENCH_ONLY;
  for (const withRedis of only === undefined || only === "fleet" ? [true, false] : []) {
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await stampede(withRedis));
    lines.push(
      `| fleet stampede, 4 processes x 250 cold acquisitions, ${withRedis ? "Redis store" : "no shared store"} | token requests ${runs.map((r) => r.requests).join(", ")} | wall ${runs.map((r) => r.wallMs.toFixed(0)).join(", ")} ms |`,
    );
  }

  // ---- 2. local-level hit through a token manager ----
  const client = createClient({ url: redis.url });
  await client.connect();
  // One hit of each store in turn, round after round (the order swapped every other round), so
  // both are measured under the same machine state; a block of one then a block of the other moved
  // by up to 1.5x between runs on a shared machine. Two call patterns: a fresh request object per
  // call, as apps write it, and one object reused, which leaves less beside the store in the time
  // and so shows the store's own share of a hit more sharply.
  async function hitOperation(cache: CacheStore, fresh: boolean): Promise<() => Promise<unknown>> {
    const manager = createTokenManager({
      cache,
      source: async () => ({
        accessToken: "t",
        tokenType: "Bearer",
        expiresOn: new Date(Date.now() + 3_600_000),
      }),
    });
    const req = { clientId: "c", authority: "a", scopes: ["s"] };
    await manager.acquireToken(req);
    if (fresh) return () => manager.acquireToken({ clientId: "c", authority: "a", scopes: ["s"] });
    return () => manager.acquireToken(req);
  }
  // Each pattern with its own stores and token managers, so one does not warm the other.
  for (const fresh of [false, true]) {
    const redisStore = createRedisCacheStore({
      client,
      encryption: { keys: [key] },
      prefix: `bench-local-${fresh}`,
    });
    const memoryHit = await hitOperation(createMemoryCacheStore(), fresh);
    const redisHit = await hitOperation(redisStore, fresh);
    const memoryRounds: number[] = [];
    const redisRounds: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < 12; r++) {
      const pair: number[] = [];
      for (const hit of r % 2 ? [redisHit, memoryHit] : [memoryHit, redisHit]) {
        const n = 200_000;
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < n; i++) await hit();
        pair.push(Number(process.hrtime.bigint() - t0) / n);
      }
      const [memoryNs, redisNs] = (r % 2 ? [pair[1], pair[0]] : pair) as [number, number];
      // The first two rounds warm the JIT up.
      if (r < 2) continue;
      memoryRounds.push(memoryNs);
      redisRounds.push(redisNs);
      ratios.push(redisNs / memoryNs);
    }
    const m = median(memoryRounds);
    const r = median(redisRounds);
    lines.push(
      `| local-level hit (token manager, ${fresh ? "fresh request object" : "reused request object"}) | memory store ${m.toFixed(0)} ns | Redis store ${r.toFixed(0)} ns (${(r / m).toFixed(2)}x; rounds ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x) |`,
    );
    await redisStore.close();
  }

  // ---- 3. Redis-level hit vs bare GET ----
  // A local level of 1 entry read with 2 keys alternately, starting with the one it does not
  // hold: every get goes to Redis (checked below with Redis's own GET count). Started with the
  // key it holds, a hit would mark it and every other get would be served locally.
  const store = createRedisCacheStore({
    client,
    encryption: { keys: [key] },
    prefix: "bench-remote",
    localMaxEntries: 1,
    lease: false,
  });
  const value = JSON.stringify({ v: 1, at: "x".repeat(1400), sc: ["s"], ex: Date.now() + 3_600_000 });
  await store.set("a", value, 3_600_000);
  await store.set("b", value, 3_600_000);
  await client.sendCommand(["SET", "bench-bare", "y".repeat(1500)]);
  // Alternating one bare GET and one store get, in rounds after a warm-up: the ratio is the
  // median of the rounds' ratios (with their range), so one noisy stretch moves one round only.
  const storeMs: number[] = [];
  const bareMs: number[] = [];
  const roundRatios: number[] = [];
  const gets = async () =>
    Number(/cmdstat_get:calls=(\d+)/.exec(String(await client.sendCommand(["INFO", "commandstats"])))?.[1]);
  const getsBefore = await gets();
  const ROUNDS = 7;
  const PER_ROUND = 1000;
  for (let round = -1; round < ROUNDS; round++) {
    const storeRound: number[] = [];
    const bareRound: number[] = [];
    for (let i = 0; i < 2 * PER_ROUND; i++) {
      const t0 = performance.now();
      if (i % 2 === 0) await client.sendCommand(["GET", "bench-bare"]);
      else await store.get(i % 4 === 1 ? "a" : "b");
      (i % 2 === 0 ? bareRound : storeRound).push(performance.now() - t0);
    }
    if (round < 0) continue; // warm-up
    storeMs.push(...storeRound);
    bareMs.push(...bareRound);
    roundRatios.push(median(storeRound) / median(bareRound));
  }
  const sent = (await gets()) - getsBefore;
  if (sent !== 2 * PER_ROUND * (ROUNDS + 1)) {
    client.destroy();
    throw new Error(
      `the Redis-level rows measured local hits: ${sent} GETs for ${2 * PER_ROUND * (ROUNDS + 1)} calls`,
    );
  }
  const us = (x: number) => (x * 1000).toFixed(0);
  lines.push(
    `| Redis-level hit (GET + decrypt) | bare GET median ${us(median(bareMs))} us, p99 ${us(p99(bareMs))} us | store median ${us(median(storeMs))} us, p99 ${us(p99(storeMs))} us (${median(roundRatios).toFixed(2)}x; rounds ${Math.min(...roundRatios).toFixed(2)}-${Math.max(...roundRatios).toFixed(2)}x) |`,
  );
  await store.close();
  client.destroy();
} finally {
  await emu.close();
  await redis.stop();
  rmSync(scratch, { recursive: true, force: true });
}
console.log(lines.join("\n"));
