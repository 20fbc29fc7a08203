// Instructions per resource call, for `valgrind --tool=callgrind` (which counts instructions, whatever
// the machine's load): the emulator runs in this process, the measured side in a child process
// under callgrind, which makes `N` sequential calls after a warm-up of BENCH_WARM_UP (default 3000,
// so that V8 has compiled what it will before the counted calls). Run it twice with
// different N and divide the difference by the difference of N:
// `node --import tsx resource-instructions.ts <side> <N> [callgrind.out]` (in bench/, after
// `pnpm build`); sides: undici (a bare undici Agent with the binding certificate), certbound
// (ResourceCaller + http-undici with a token acquired per call, as resource-ab.ts), caller
// (ResourceCaller with one token result), transport (http-undici's send() alone). Without a third
// argument the child runs without valgrind (to check the setup). Prints the child's handshakes.
// `node --single-threaded --import tsx ...` gives steadier counts: the child inherits the flag, and
// no background GC or compiler thread then adds its share at random.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
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

const [side = "certbound", n = "1000", outFile] = process.argv.slice(2);
const WARM_UP = Number(process.env.BENCH_WARM_UP ?? 3000);

async function worker(): Promise<{ side: string; calls: number; handshakes: number }> {
  const setup = workerSetup();
  const tokenTransport = createUndiciTransport({ ca: setup.caCertificatePem });
  const app = benchApp(setup, tokenTransport);
  const scope = `${setup.resourceUrl}/.default`;
  const acquire = () => app.acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: true });
  const token = await acquire();
  const binding = token.bindingCertificate;
  if (!binding) throw new Error("the PoP token came without its binding certificate");
  const url = `${setup.resourceUrl}/bench`;
  const authorization = `Bearer ${token.accessToken}`;
  const agent = new Agent({
    connect: {
      cert: binding.certificatePem,
      key: binding.privateKey.export({ type: "pkcs8", format: "pem" }),
      ca: setup.caCertificatePem,
    },
  });
  const transport = createUndiciTransport({ ca: setup.caCertificatePem });
  const caller = new ResourceCaller({ transport });
  const sides: Record<string, () => Promise<number>> = {
    undici: async () => {
      const response = await undiciRequest(url, { dispatcher: agent, headers: { authorization } });
      await response.body.text();
      return response.statusCode;
    },
    certbound: async () => (await caller.call(await acquire(), url)).status,
    caller: async () => (await caller.call(token, url)).status,
    transport: async () =>
      (
        await transport.send({
          method: "GET",
          url,
          headers: { authorization },
          clientIdentity: binding,
          timeoutMs: 30_000,
        })
      ).status,
  };
  const call = sides[side];
  if (!call) throw new Error(`unknown side ${side}`);
  try {
    await resetEmulatorCounts();
    const calls = Number(n);
    for (let i = 0; i < WARM_UP + calls; i++) {
      const status = await call();
      if (status !== 200) throw new Error(`${side}: the resource answered ${status}`);
    }
    return { side, calls, handshakes: (await emulatorCounts()).handshakes.resource };
  } finally {
    await agent.close();
    await caller.close();
    await transport.close();
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
    const node = [process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), side, n];
    const command = outFile
      ? ["valgrind", "--tool=callgrind", `--callgrind-out-file=${outFile}`, ...node]
      : node;
    const child = spawn(command[0] as string, command.slice(1), {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: { ...process.env, BENCH_SETUP: JSON.stringify(setup) },
    });
    console.log(JSON.stringify(await serveWorker(child, emu)));
  } finally {
    await emu.close();
  }
}
