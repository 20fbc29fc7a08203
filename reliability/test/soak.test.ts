// Soak: thousands of concurrent acquisitions and resource calls across many keys, both transports,
// every credential source, with faults injected from a seeded plan, on loopback and the test
// clock. Every caller must get a token (or response) or a typed error; nothing may reject
// unhandled; and after close() no socket or timer may be left behind.
import { randomUUID } from "node:crypto";
import { type HttpTransport, isCertboundError, ResourceCaller, type TokenResult } from "@certbound/core";
import type { ConfidentialClient } from "@certbound/credential-cert";
import type { ManagedIdentityClient } from "@certbound/credential-msi";
import type { EndpointName, Fault } from "@certbound/emulator";
import { createAxiosTransport } from "@certbound/http-axios";
import { createUndiciTransport } from "@certbound/http-undici";
import { createTestClock } from "@certbound/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { prng } from "./support/prng";
import { nextTick } from "./support/wait";
import { startWorld, type World } from "./support/world";

const SEED = 20_260_704;
const WAVES = 6;
const PER_WAVE = 800;
const RESOURCES = 40;

let world: World;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
const warnings: string[] = [];
const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);

beforeAll(async () => {
  world = await startWorld();
  process.on("unhandledRejection", onUnhandled);
  process.on("warning", onWarning);
});
afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  process.off("warning", onWarning);
  await world?.close();
});

/** Counts of the live handles that a leak would leave behind. */
function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}
const LEAKABLE = ["TCPSocketWrap", "TLSWrap", "Timeout", "Immediate", "PipeWrap"] as const;

const FAULTED: readonly EndpointName[] = [
  "token",
  "mtlsToken",
  "getPlatformMetadata",
  "issueCredential",
  "imdsToken",
  "appService",
  "serviceFabric",
  "azureArc",
  "cloudShell",
  "machineLearning",
  "resource",
];

it("thousands of concurrent calls under random faults: a token or a typed error each, no leak", {
  timeout: 60_000,
}, async () => {
  const { emu } = world;
  const random = prng(SEED);
  const baseline = handles();
  world.freshClock();

  const undici = createUndiciTransport({ clock: createTestClock({ autoAdvance: false }) });
  const axios = createAxiosTransport({ clock: createTestClock({ autoAdvance: false }) });
  const transports: HttpTransport[] = [undici, axios];
  const appB = randomUUID();
  emu.registerConfidentialClient({ clientId: appB, certificatePem: world.app.certificate.certificatePem });
  const user = emu.registerManagedIdentity();

  type Client =
    | { kind: "cert"; name: string; client: ConfidentialClient }
    | { kind: "msi"; name: string; client: ManagedIdentityClient; pop: boolean };
  const clients: Client[] = [
    { kind: "cert", name: "app A (undici)", client: world.certClient({ transport: undici }) },
    { kind: "cert", name: "app B (axios)", client: world.certClient({ transport: axios, clientId: appB }) },
    {
      kind: "msi",
      name: "IMDS system (undici)",
      client: world.msiClient("imds", { transport: undici }),
      pop: true,
    },
    {
      kind: "msi",
      name: "IMDS user-assigned (axios)",
      client: world.msiClient("imds", { transport: axios, clientId: user.clientId }),
      pop: true,
    },
    {
      kind: "msi",
      name: "App Service",
      client: world.msiClient("appService", { transport: undici }),
      pop: false,
    },
    {
      kind: "msi",
      name: "Service Fabric",
      client: world.msiClient("serviceFabric", { transport: axios }),
      pop: false,
    },
    {
      kind: "msi",
      name: "Azure Arc",
      client: world.msiClient("azureArc", { transport: undici }),
      pop: false,
    },
    {
      kind: "msi",
      name: "Cloud Shell",
      client: world.msiClient("cloudShell", { transport: axios }),
      pop: false,
    },
    {
      kind: "msi",
      name: "Machine Learning",
      client: world.msiClient("machineLearning", { transport: undici }),
      pop: false,
    },
  ];
  const callers = transports.map((transport) => new ResourceCaller({ transport, ca: emu.caCertificatePem }));
  const stranger = world.foreignCa.issue({ commonName: "soak-stranger" });
  const resources = [emu.resourceUrl, ...Array.from({ length: RESOURCES - 1 }, (_, i) => `api://soak-${i}`)];

  const acquire = (c: Client, resource: string, pop: boolean, forceRefresh: boolean): Promise<TokenResult> =>
    c.kind === "cert"
      ? c.client.acquireTokenForClient({
          scopes: [`${resource}/.default`],
          mtlsProofOfPossession: pop,
          forceRefresh,
        })
      : c.client.acquireToken({ resource, mtlsProofOfPossession: pop, forceRefresh });

  /** One operation of the plan. */
  function operation(): () => Promise<unknown> {
    const c = random.pick(clients);
    const pop = c.kind === "cert" ? random.chance(0.5) : c.pop && random.chance(0.6);
    const roll = random.next();
    const forceRefresh = random.chance(0.25);
    const caller = random.pick(callers);
    // The resource takes certificate-bound tokens over mTLS: Bearer tokens are only acquired.
    if (roll < 0.5 || !pop) {
      const resource = random.pick(resources);
      return () => acquire(c, resource, pop, forceRefresh);
    }
    const wrongCertificate = pop && roll > 0.95;
    return async () => {
      const token = await acquire(c, emu.resourceUrl, pop, forceRefresh);
      return caller.call(
        token,
        `${emu.resourceUrl}/soak`,
        wrongCertificate ? { clientIdentity: stranger } : {},
      );
    };
  }

  /** A wave's faults: for most endpoints, a few faults of random kinds. */
  function injectFaults(): void {
    for (const endpoint of FAULTED) {
      if (!random.chance(0.7)) continue;
      for (let i = random.int(3) + 1; i > 0; i--) {
        const count = random.int(8) + 1;
        const kind = random.int(7);
        const fault: Fault =
          kind === 0
            ? { reset: true, count }
            : kind === 1
              ? { status: 200, body: random.pick(['{"access_token":', "", "<html>oops</html>", "[]"]), count }
              : kind === 2
                ? { status: 429, headers: { "retry-after": String(random.int(3) + 1) }, count }
                : { status: random.pick([400, 404, 408, 410, 429, 500, 502, 503, 504]), count };
        emu.injectFault(endpoint, fault);
      }
    }
  }

  const outcomes = new Map<string, number>();
  const untyped: unknown[] = [];
  const latencies: number[] = [];
  const started = performance.now();
  for (let wave = 0; wave < WAVES; wave++) {
    emu.clearFaults();
    injectFaults();
    const operations = Array.from({ length: PER_WAVE }, () => operation());
    await Promise.all(
      operations.map(async (op) => {
        const t0 = performance.now();
        let outcome: string;
        try {
          const value = await op();
          outcome =
            typeof value === "object" && value !== null && "status" in value
              ? `response ${(value as { status: number }).status}`
              : "token";
        } catch (error) {
          if (isCertboundError(error)) outcome = error.code;
          else {
            untyped.push(error);
            outcome = "untyped";
          }
        }
        latencies.push(performance.now() - t0);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }),
    );
  }
  const durationMs = performance.now() - started;
  emu.clearFaults();
  const requests = emu.stats().requests;

  for (const c of clients) c.client.close();
  for (const caller of callers) await caller.close();
  await undici.close();
  await axios.close();
  // Closed sockets finish closing on both ends (the emulator shares this process) within a few
  // turns of the event loop; give them those turns, not time.
  const leaked = (): string[] => {
    const now = handles();
    return LEAKABLE.filter((kind) => (now[kind] ?? 0) > (baseline[kind] ?? 0)).map(
      (kind) => `${kind}: ${now[kind]} > ${baseline[kind] ?? 0}`,
    );
  };
  for (let turn = 0; turn < 20_000 && leaked().length > 0; turn++) await nextTick();

  latencies.sort((a, b) => a - b);
  const figures = {
    operations: WAVES * PER_WAVE,
    durationMs: Math.round(durationMs),
    operationsPerSecond: Math.round((WAVES * PER_WAVE) / (durationMs / 1000)),
    p50Ms: Math.round(latencies[Math.floor(latencies.length * 0.5)] ?? 0),
    p99Ms: Math.round(latencies[Math.floor(latencies.length * 0.99)] ?? 0),
    outcomes: Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1])),
    requestsToTheEmulator: Object.values(requests).reduce((a, b) => a + b, 0),
    requestsByEndpoint: requests,
    retryWaits: world.clock.sleeps.length,
    simulatedSecondsOfRetryWaits: Math.round(world.clock.sleeps.reduce((a, b) => a + b, 0) / 1000),
  };
  // The figures docs/reliability.md quotes, printed only when asked (RELIABILITY_SOAK_FIGURES=1):
  // a plain test run prints its summary and nothing else.
  if (process.env.RELIABILITY_SOAK_FIGURES === "1") console.log(`soak figures: ${JSON.stringify(figures)}`);

  // Soft: every check reports, whichever fails first.
  expect.soft(untyped, "operations that ended with an untyped error").toEqual([]);
  expect.soft(unhandled, "unhandled rejections").toEqual([]);
  expect.soft([...outcomes.values()].reduce((a, b) => a + b, 0)).toBe(WAVES * PER_WAVE);
  expect
    .soft((outcomes.get("token") ?? 0) + (outcomes.get("response 200") ?? 0))
    .toBeGreaterThan(WAVES * PER_WAVE * 0.5);
  expect.soft(leaked(), "handles left after close()").toEqual([]);
  // A library on the hot path stays quiet: no process warning (e.g. MaxListenersExceededWarning
  // from listeners piling up on one AbortSignal under concurrency).
  expect.soft([...new Set(warnings)], "process warnings").toEqual([]);
});
