// Resource calls, A/B in one process: a bare undici Agent with the binding certificate against
// ResourceCaller + http-undici, interleaved round by round (sequential and 50 in flight), so the
// per-call ratio is taken under the same machine load. The emulator runs in the parent process (it
// never shares the measured event loop). Run alone, after `pnpm build`: `node --import tsx
// resource-ab.ts` (in bench/). BENCH_ROUNDS (default 9) rounds of BENCH_CALLS (default 500) calls.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { TokenResult } from "@certbound/core";
import { ResourceCaller } from "@certbound/core";
import { startEmulator } from "@certbound/emulator";
import { createUndiciTransport } from "@certbound/http-undici";
import { Agent, request as undiciRequest } from "undici";
import {
  benchApp,
  emulatorCounts,
  registerBenchApp,
  resetEmulatorCounts,
  runWorker,
  serveWorker,
  workerSetup,
} from "./emulator-link";
import { inParallel, median } from "./measure-tools";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const CALLS = Number(process.env.BENCH_CALLS ?? 500);

/** Per-call time of each side, median over rounds, and the ratio of the medians. */
export interface ResourceAb {
  inFlight: number;
  undiciUsPerCall: number;
  certboundUsPerCall: number;
  ratio: number;
  /** Median of the per-round ratios (each round's two sides ran back to back). */
  roundRatio: number;
  /** Client-process CPU time per call (user + system), median over rounds: load elsewhere moves it less. */
  undiciCpuUsPerCall: number;
  certboundCpuUsPerCall: number;
  cpuRatio: number;
  undiciHandshakes: number;
  certboundHandshakes: number;
}

/**
 * Measures both sides with `inFlight` calls at a time: a warm-up round, then {@link ROUNDS}
 * rounds that alternate which side goes first. Each side keeps its one agent / transport over all
 * rounds (as an app would), and the handshakes the resource completed are counted per side.
 */
export async function resourceAb(
  url: string,
  ca: string,
  token: TokenResult,
  acquire: () => Promise<TokenResult>,
  inFlight: number,
): Promise<ResourceAb> {
  const binding = token.bindingCertificate;
  if (!binding) throw new Error("the PoP token came without its binding certificate");
  const agent = new Agent({
    connect: {
      cert: binding.certificatePem,
      key: binding.privateKey.export({ type: "pkcs8", format: "pem" }),
      ca,
    },
  });
  const authorization = `Bearer ${token.accessToken}`;
  const transport = createUndiciTransport({ ca });
  const caller = new ResourceCaller({ transport });
  const sides = {
    undici: async () => {
      const response = await undiciRequest(url, { dispatcher: agent, headers: { authorization } });
      await response.body.text();
      return response.statusCode;
    },
    certbound: async () => (await caller.call(await acquire(), url)).status,
    transportOnly: async () =>
      (
        await transport.send({
          method: "GET",
          url,
          headers: { authorization },
          clientIdentity: binding,
          timeoutMs: 30_000,
        })
      ).status,
    undiciAsCertbound: async () => {
      const response = await undiciRequest(url, {
        dispatcher: agent,
        method: "GET",
        headers: { "accept-encoding": "identity", authorization },
        body: null,
      });
      await response.body.text();
      return response.statusCode;
    },
  };
  type Side = keyof typeof sides;
  const handshakes: Record<string, number> = { undici: 0, certbound: 0 };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  const ratios: number[] = [];
  try {
    for (let r = -1; r < ROUNDS; r++) {
      const extra = (process.env.BENCH_EXTRA?.split(",") ?? []) as Side[];
      const order: Side[] =
        r % 2 === 0 ? ["undici", "certbound", ...extra] : ["certbound", "undici", ...extra];
      const round: Record<string, number> = {};
      for (const side of order) {
        if (process.env.BENCH_SIDE !== undefined && process.env.BENCH_SIDE !== side) continue;
        await resetEmulatorCounts();
        const cpu0 = process.cpuUsage();
        const ms = await inParallel(CALLS, inFlight, async () => {
          const status = await sides[side]();
          if (status !== 200) throw new Error(`${side}: the resource answered ${status}`);
        });
        const used = process.cpuUsage(cpu0);
        if (r >= 0) cpu[side]?.push((used.user + used.system) / CALLS);
        handshakes[side] = (handshakes[side] ?? 0) + (await emulatorCounts()).handshakes.resource;
        round[side] = (ms * 1000) / CALLS;
        if (r >= 0) times[side]?.push(round[side] as number);
        if (r === ROUNDS - 1 && extra.length > 0)
          console.error(
            side,
            "cpu us/call",
            median(cpu[side] ?? []).toFixed(1),
            "wall",
            median(times[side] ?? []).toFixed(1),
          );
      }
      if (r >= 0 && round.undici !== undefined && round.certbound !== undefined)
        ratios.push((round.certbound as number) / (round.undici as number));
    }
  } finally {
    await agent.close();
    await caller.close();
    await transport.close();
  }
  const u = median(times.undici ?? []);
  const c = median(times.certbound ?? []);
  return {
    inFlight,
    undiciUsPerCall: Math.round(u * 10) / 10,
    certboundUsPerCall: Math.round(c * 10) / 10,
    ratio: Math.round((c / u) * 1000) / 1000,
    roundRatio: Math.round(median(ratios) * 1000) / 1000,
    undiciCpuUsPerCall: Math.round(median(cpu.undici ?? []) * 10) / 10,
    certboundCpuUsPerCall: Math.round(median(cpu.certbound ?? []) * 10) / 10,
    cpuRatio: Math.round((median(cpu.certbound ?? []) / median(cpu.undici ?? [])) * 1000) / 1000,
    undiciHandshakes: handshakes.undici ?? 0,
    certboundHandshakes: handshakes.certbound ?? 0,
  };
}

async function worker(): Promise<ResourceAb[]> {
  const setup = workerSetup();
  const tokenTransport = createUndiciTransport({ ca: setup.caCertificatePem });
  const app = benchApp(setup, tokenTransport);
  const scope = `${setup.resourceUrl}/.default`;
  // As users write it: a fresh request object per call.
  const acquire = () => app.acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: true });
  try {
    const token = await acquire();
    const url = `${setup.resourceUrl}/bench`;
    const out: ResourceAb[] = [];
    const modes = (process.env.BENCH_IN_FLIGHT ?? "1,50").split(",").map(Number);
    for (const inFlight of modes)
      out.push(await resourceAb(url, setup.caCertificatePem, token, acquire, inFlight));
    return out;
  } finally {
    await app.close();
    await tokenTransport.close();
  }
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain && process.env.BENCH_SETUP) {
  runWorker(worker);
} else if (isMain) {
  const emu = await startEmulator();
  try {
    const setup = registerBenchApp(emu);
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: { ...process.env, BENCH_SETUP: JSON.stringify(setup) },
    });
    const rows = await serveWorker<ResourceAb[]>(child, emu);
    console.table(rows);
  } finally {
    await emu.close();
  }
}
