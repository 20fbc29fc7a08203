// The bench runs the emulator in the parent process and each library in a child process (see
// run.ts for why). This file is the small protocol between them: the child gets the emulator's
// addresses and the app's certificate in the environment variable BENCH_SETUP, asks the parent for
// the emulator's counters over the IPC channel, and sends its results back the same way.
import type { ChildProcess } from "node:child_process";
import type { HttpTransport } from "@certbound/core";
import { createCertificateAuthority } from "@certbound/core/credential-kit";
import { type ConfidentialClient, createConfidentialClient } from "@certbound/credential-cert";
import type { Emulator, EmulatorStats } from "@certbound/emulator";

/** What a worker needs to reach the emulator. */
export interface BenchSetup {
  authorityHost: string;
  mtlsAuthorityHost: string;
  imdsEndpoint: string;
  resourceUrl: string;
  tenantId: string;
  caCertificatePem: string;
  /** A confidential client registered in the emulator with an RSA certificate (PS256 assertions). */
  app: { clientId: string; certificatePem: string; privateKeyPem: string; x5tS256: string };
}

export type EmulatorCounts = Pick<EmulatorStats, "requests" | "handshakes">;

type ToParent =
  | { kind: "emulator"; id: number; op: "stats" | "resetStats" }
  | { kind: "result"; result: unknown }
  | { kind: "error"; message: string };

type ToChild = { kind: "emulator"; id: number; counts?: EmulatorCounts };

/** Parent side: answers a worker's questions about the emulator; resolves with its result. */
export function serveWorker<T>(child: ChildProcess, emu: Emulator): Promise<T> {
  return new Promise((resolve, reject) => {
    let result: { value: T } | undefined;
    let failure: string | undefined;
    child.on("message", (raw) => {
      const message = raw as ToParent;
      if (message.kind === "emulator") {
        let counts: EmulatorCounts | undefined;
        if (message.op === "resetStats") emu.resetStats();
        else {
          const { requests, handshakes } = emu.stats();
          counts = { requests, handshakes };
        }
        const answer: ToChild = { kind: "emulator", id: message.id, ...(counts && { counts }) };
        child.send(answer);
      } else if (message.kind === "result") {
        result = { value: message.result as T };
      } else {
        failure = message.message;
      }
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (result && code === 0) resolve(result.value);
      else
        reject(new Error(failure ?? `bench worker exited with ${signal ?? `code ${code}`} before reporting`));
    });
  });
}

// ---- child side ----

let nextId = 0;
const waiting = new Map<number, (counts: EmulatorCounts | undefined) => void>();

function ask(op: "stats" | "resetStats"): Promise<EmulatorCounts | undefined> {
  if (!process.send) throw new Error("bench workers are started by run.ts (they need its IPC channel)");
  if (waiting.size === 0) {
    process.on("message", onMessage);
  }
  const id = ++nextId;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    const message: ToParent = { kind: "emulator", id, op };
    process.send?.(message);
  });
}

function onMessage(raw: unknown): void {
  const message = raw as ToChild;
  const resolve = waiting.get(message.id);
  if (!resolve) return;
  waiting.delete(message.id);
  if (waiting.size === 0) process.off("message", onMessage); // lets the worker exit when done
  resolve(message.counts);
}

/** The emulator's request and handshake counters since the last reset. */
export async function emulatorCounts(): Promise<EmulatorCounts> {
  const counts = await ask("stats");
  if (!counts) throw new Error("the bench parent sent no emulator counters");
  return counts;
}

export async function resetEmulatorCounts(): Promise<void> {
  await ask("resetStats");
}

export function workerSetup(): BenchSetup {
  const raw = process.env.BENCH_SETUP;
  if (!raw) throw new Error("BENCH_SETUP is not set: bench workers are started by run.ts");
  return JSON.parse(raw) as BenchSetup;
}

/**
 * Parent side: registers the bench's app (an RSA certificate: msal-node signs PS256 client
 * assertions) in the emulator and returns what a worker needs, for BENCH_SETUP.
 */
export function registerBenchApp(emu: Emulator): BenchSetup {
  const appCertificate = createCertificateAuthority({ commonName: "bench app CA" }).issue({
    commonName: "bench-app",
    keyType: "rsa",
  });
  const clientId = "0b1e6f5c-bench-4c1a-9d7e-000000000001";
  emu.registerConfidentialClient({ clientId, certificatePem: appCertificate.certificatePem });
  return {
    authorityHost: emu.authorityHost,
    mtlsAuthorityHost: emu.mtlsAuthorityHost,
    imdsEndpoint: emu.imdsEndpoint,
    resourceUrl: emu.resourceUrl,
    tenantId: emu.tenantId,
    caCertificatePem: emu.caCertificatePem,
    app: {
      clientId,
      certificatePem: appCertificate.certificatePem,
      privateKeyPem: appCertificate.keyPem,
      x5tS256: appCertificate.x5tS256,
    },
  };
}

/** Worker side: certbound's confidential client for the bench's app, on `transport`. */
export function benchApp(setup: BenchSetup, transport: HttpTransport): ConfidentialClient {
  return createConfidentialClient({
    clientId: setup.app.clientId,
    authority: `https://login.microsoftonline.com/${setup.tenantId}`,
    certificate: { certificatePem: setup.app.certificatePem, privateKeyPem: setup.app.privateKeyPem },
    transport,
    authorityHost: setup.authorityHost,
    mtlsAuthorityHost: setup.mtlsAuthorityHost,
    ca: setup.caCertificatePem,
  });
}

/** Runs a worker's main function and reports its result (or its failure) to the parent. */
export function runWorker(main: () => Promise<unknown>): void {
  main().then(
    (result) => {
      const message: ToParent = { kind: "result", result };
      process.send?.(message, () => process.exit(0));
    },
    (error: unknown) => {
      console.error(error);
      const message: ToParent = {
        kind: "error",
        message: error instanceof Error ? error.message : String(error),
      };
      process.send?.(message, () => process.exit(1));
    },
  );
}

/** Groups the emulator's per-endpoint counters the way the report talks about them. */
export function summarizeRequests(requests: EmulatorStats["requests"]): {
  tokenRequests: number;
  discoveryRequests: number;
  imdsV2Requests: number;
} {
  return {
    tokenRequests:
      requests.token +
      requests.mtlsToken +
      requests.imdsToken +
      requests.appService +
      requests.serviceFabric +
      requests.azureArc +
      requests.cloudShell +
      requests.machineLearning,
    discoveryRequests: requests.openidConfiguration + requests.instanceDiscovery + requests.jwks,
    imdsV2Requests: requests.getPlatformMetadata + requests.issueCredential,
  };
}
