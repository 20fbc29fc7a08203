// certbound's half of the bench, in its own process (started by run.ts): cache hits, cold
// stampedes, resource calls through each transport, the managed-identity PoP cold start, and heap
// per cached token. Trust in the emulator comes from the `ca` options, not from the environment.
import { type HttpTransport, ResourceCaller, type TokenResult } from "@certbound/core";
import { buildCsr, createInMemoryKeyProvider, createManagedIdentityClient } from "@certbound/credential-msi";
import { createAxiosTransport } from "@certbound/http-axios";
import { createUndiciTransport } from "@certbound/http-undici";
import { Agent, request as undiciRequest } from "undici";
import {
  benchCoreCacheHits,
  floorOperation,
  measureInterleaved,
  round,
  scopeSets,
  tokenFloorOperation,
} from "./cache-hit";
import {
  benchApp,
  emulatorCounts,
  resetEmulatorCounts,
  runWorker,
  summarizeRequests,
  workerSetup,
} from "./emulator-link";
import { inParallel, median, progress, settledHeapBytes } from "./measure-tools";
import { resourceAb } from "./resource-ab";
import type {
  CacheHitResult,
  CertboundResult,
  ColdStartResult,
  FirstCallResult,
  FlowId,
  FreshHitResult,
  MemoryResult,
  ResourceCallResult,
  StampedeResult,
} from "./result-types";

const setup = workerSetup();
const MANY = Number(process.env.BENCH_KEYS ?? 10_000);
const STAMPEDE_CALLERS = 1000;
const RESOURCE_CALLS = 1000;
const IN_FLIGHT = 50;
const COLD_START_RUNS = 5;
// Acquisitions in flight while filling a cache: enough to keep the emulator busy on 2 cores.
const FILL_CONCURRENCY = 8;

const newTransport = () => createUndiciTransport({ ca: setup.caCertificatePem });

/** One client of one flow, with its acquisition reduced to "the token for key i". */
interface FlowClient {
  acquire(key: number): Promise<TokenResult>;
  /** The same, written as users write it: a fresh request object (and scopes array) per call. */
  acquireFresh(key: number): Promise<TokenResult>;
  /** The Credential method with fresh arguments: `getToken([scope], { mtlsProofOfPossession })`. */
  getTokenFresh(key: number): Promise<TokenResult>;
  close(): void;
}

function confidentialClient(transport: HttpTransport, pop: boolean, keys: number): FlowClient {
  const app = benchApp(setup, transport);
  const requests = scopeSets(keys).map((scopes) => ({ scopes, mtlsProofOfPossession: pop }));
  const scopes = requests.map((r) => r.scopes[0] as string);
  return {
    acquire: (key) => app.acquireTokenForClient(requests[key % keys] as (typeof requests)[number]),
    acquireFresh: (key) =>
      app.acquireTokenForClient({ scopes: [scopes[key % keys] as string], mtlsProofOfPossession: pop }),
    getTokenFresh: (key) => app.getToken([scopes[key % keys] as string], { mtlsProofOfPossession: pop }),
    close: () => app.close(),
  };
}

function managedIdentityClient(transport: HttpTransport, pop: boolean, keys: number): FlowClient {
  const msi = createManagedIdentityClient({
    transport,
    imdsEndpoint: setup.imdsEndpoint,
    mtlsAuthorityHost: setup.mtlsAuthorityHost,
    ca: setup.caCertificatePem,
    env: {}, // plain IMDS, whatever this machine's environment says
  });
  const requests = scopeSets(keys).map((scopes) => ({
    resource: (scopes[0] as string).replace("/.default", ""),
    mtlsProofOfPossession: pop,
  }));
  const resources = requests.map((r) => r.resource);
  const scopes = scopeSets(keys).map((s) => s[0] as string);
  return {
    acquire: (key) => msi.acquireToken(requests[key % keys] as (typeof requests)[number]),
    acquireFresh: (key) =>
      msi.acquireToken({ resource: resources[key % keys] as string, mtlsProofOfPossession: pop }),
    getTokenFresh: (key) => msi.getToken([scopes[key % keys] as string], { mtlsProofOfPossession: pop }),
    close: () => msi.close(),
  };
}

const FLOWS: Record<FlowId, (transport: HttpTransport, keys: number) => FlowClient> = {
  ccBearer: (t, k) => confidentialClient(t, false, k),
  ccPop: (t, k) => confidentialClient(t, true, k),
  miBearer: (t, k) => managedIdentityClient(t, false, k),
  miPop: (t, k) => managedIdentityClient(t, true, k),
};

/**
 * One flow's cache hits with 1 and with MANY cached keys, and the floor with as many keys, measured
 * in the same rounds. Optionally the heap growth while the MANY-key cache fills.
 */
async function cacheHits(
  flow: FlowId,
  transport: HttpTransport,
  measureMemory: boolean,
): Promise<{ one: CacheHitResult; many: CacheHitResult; fresh: FreshHitResult; memory?: MemoryResult }> {
  const single = FLOWS[flow](transport, 1);
  const client = FLOWS[flow](transport, MANY);
  try {
    await single.acquire(0);
    const first = await client.acquire(0); // also opens connections and loads certificates
    progress(`certbound: cache hits, ${flow}, filling ${MANY} keys`);
    const before = measureMemory ? settledHeapBytes() : 0;
    const fillMs = await inParallel(MANY - 1, FILL_CONCURRENCY, (i) => client.acquire(i + 1));
    const after = measureMemory ? settledHeapBytes() : 0;
    const check = await client.acquire(0);
    if (check.metadata.tokenSource !== "cache" || check.accessToken !== first.accessToken) {
      throw new Error(`${flow}: the cache did not serve the first token back after filling ${MANY} keys`);
    }
    progress(`certbound: cache hits, ${flow}, measuring 1 and ${MANY} keys`);
    // Random order for the fresh many-key rows and their floor, drawn up front (not measured).
    const order = Uint32Array.from({ length: 1 << 16 }, () => Math.floor(Math.random() * MANY));
    const floorMany = floorOperation(MANY);
    const tokenFloorOne = tokenFloorOperation(1);
    const tokenFloorMany = tokenFloorOperation(MANY);
    const r = await measureInterleaved({
      freshOne: (i) => single.acquireFresh(i),
      freshMany: (i) => client.acquireFresh(order[i & 0xffff] as number),
      getTokenFresh: (i) => single.getTokenFresh(i),
      one: (i) => single.acquire(i),
      many: (i) => client.acquire(i),
      floorOne: floorOperation(1),
      floorMany,
      floorManyRandom: (i) => floorMany(order[i & 0xffff] as number),
      tokenFloorOne,
      tokenFloorManyRandom: (i) => tokenFloorMany(order[i & 0xffff] as number),
    });
    const result = {
      one: {
        ...r.one,
        keys: 1,
        fill: { method: "1 token request", ms: 0 },
        floorOpsPerSecond: r.floorOne.opsPerSecond,
      },
      many: {
        ...r.many,
        keys: MANY,
        fill: { method: `${MANY} token requests, ${FILL_CONCURRENCY} in flight`, ms: round(fillMs, 0) },
        floorOpsPerSecond: r.floorMany.opsPerSecond,
      },
      fresh: {
        one: r.freshOne,
        many: r.freshMany,
        getToken: r.getTokenFresh,
        keys: MANY,
        floorOneOpsPerSecond: r.floorOne.opsPerSecond,
        floorManyRandomOpsPerSecond: r.floorManyRandom.opsPerSecond,
        tokenFloorOneOpsPerSecond: r.tokenFloorOne.opsPerSecond,
        tokenFloorManyRandomOpsPerSecond: r.tokenFloorManyRandom.opsPerSecond,
      },
    };
    if (!measureMemory) return result;
    return {
      ...result,
      memory: {
        entries: MANY - 1,
        heapGrowthBytes: after - before,
        bytesPerEntry: Math.round((after - before) / (MANY - 1)),
        tokenChars: first.accessToken.length,
        method:
          "heapUsed after gc, before and after caching the tokens of keys 1..N-1 (key 0 warmed the client up)",
      },
    };
  } finally {
    single.close();
    client.close();
  }
}

async function stampede(flow: FlowId): Promise<StampedeResult> {
  const transport = newTransport();
  const client = FLOWS[flow](transport, 1);
  try {
    await resetEmulatorCounts();
    const started = performance.now();
    const settled = await Promise.allSettled(
      Array.from({ length: STAMPEDE_CALLERS }, () => client.acquire(0)),
    );
    const wallMs = performance.now() - started;
    const { requests } = await emulatorCounts();
    const tokens = settled.flatMap((r) => (r.status === "fulfilled" ? [r.value.accessToken] : []));
    const failures = settled.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
    return {
      callers: STAMPEDE_CALLERS,
      wallMs: round(wallMs, 1),
      distinctTokens: new Set(tokens).size,
      failedCallers: failures.length,
      ...(failures[0] !== undefined && {
        firstError: String((failures[0] as Error)?.message ?? failures[0]),
      }),
      requests: Object.fromEntries(Object.entries(requests).filter(([, n]) => n > 0)),
      ...summarizeRequests(requests),
    };
  } finally {
    client.close();
    await transport.close();
  }
}

const TRANSPORTS: { name: string; create: () => HttpTransport }[] = [
  { name: "http-undici", create: newTransport },
  { name: "http-axios", create: () => createAxiosTransport({ ca: setup.caCertificatePem }) },
];

async function resourceCalls(): Promise<ResourceCallResult[]> {
  const tokenTransport = newTransport();
  const url = `${setup.resourceUrl}/bench`;
  const rows: ResourceCallResult[] = [];
  // The token's audience must be the resource, so this client asks for the resource's scope.
  const appForResource = benchApp(setup, tokenTransport);
  const tokenRequest = { scopes: [`${setup.resourceUrl}/.default`], mtlsProofOfPossession: true };
  try {
    const token = await appForResource.acquireTokenForClient(tokenRequest);
    const binding = token.bindingCertificate;
    if (!binding) throw new Error("the PoP token came without its binding certificate");

    const run = async (
      name: string,
      mode: "sequential" | "concurrent",
      call: () => Promise<number>,
      close: () => Promise<void>,
    ) => {
      await resetEmulatorCounts();
      const inFlight = mode === "sequential" ? 1 : IN_FLIGHT;
      const wallMs = await inParallel(RESOURCE_CALLS, inFlight, async () => {
        const status = await call();
        if (status !== 200) throw new Error(`${name}: the resource answered ${status}`);
      });
      const counts = await emulatorCounts();
      await close();
      rows.push({
        transport: name,
        mode,
        calls: RESOURCE_CALLS,
        inFlight,
        wallMs: round(wallMs, 1),
        callsPerSecond: Math.round((RESOURCE_CALLS / wallMs) * 1000),
        handshakes: counts.handshakes.resource,
        resourceRequests: counts.requests.resource,
      });
    };

    for (const factory of TRANSPORTS) {
      for (const mode of ["sequential", "concurrent"] as const) {
        const transport = factory.create();
        const caller = new ResourceCaller({ transport });
        await run(
          factory.name,
          mode,
          async () =>
            (await caller.call(await appForResource.acquireTokenForClient(tokenRequest), url)).status,
          async () => {
            await transport.close?.();
          },
        );
      }
    }
    // Reference: undici's own Agent with the same certificate, no certbound in between.
    for (const mode of ["sequential", "concurrent"] as const) {
      const agent = new Agent({
        connect: {
          cert: binding.certificatePem,
          key: binding.privateKey.export({ type: "pkcs8", format: "pem" }),
          ca: setup.caCertificatePem,
        },
      });
      const authorization = `Bearer ${token.accessToken}`;
      await run(
        "undici Agent alone (reference)",
        mode,
        async () => {
          const response = await undiciRequest(url, { dispatcher: agent, headers: { authorization } });
          await response.body.text();
          return response.statusCode;
        },
        () => agent.close(),
      );
    }
  } finally {
    appForResource.close();
    await tokenTransport.close();
  }
  return rows;
}

/**
 * A cold managed-identity PoP acquisition split into its parts, from outside the package: a
 * transport that timestamps each request by path and a key provider that times key generation.
 * The CSR time is the gap between the key and the issuecredential request (building the CSR and
 * the request); "certificate" is the gap between issuecredential's answer and the token request
 * (parsing and checking the issued certificate).
 */
async function coldStart(): Promise<ColdStartResult> {
  const parts: Record<keyof ColdStartResult["medianMs"], number[]> = {
    platformMetadata: [],
    keyGeneration: [],
    csr: [],
    issueCredential: [],
    certificate: [],
    token: [],
    other: [],
    total: [],
  };
  const csrAlone: number[] = [];
  for (let run = 0; run < COLD_START_RUNS; run++) {
    const inner = newTransport();
    const spans = new Map<string, { start: number; end: number }>();
    const timed: HttpTransport = {
      async send(request) {
        const start = performance.now();
        try {
          return await inner.send(request);
        } finally {
          const path = new URL(request.url).pathname;
          const name = path.endsWith("/getplatformmetadata")
            ? "platformMetadata"
            : path.endsWith("/issuecredential")
              ? "issueCredential"
              : path.endsWith("/oauth2/v2.0/token")
                ? "token"
                : path;
          spans.set(name, { start, end: performance.now() });
        }
      },
    };
    const keys = createInMemoryKeyProvider();
    let keySpan = { start: 0, end: 0 };
    const msi = createManagedIdentityClient({
      transport: timed,
      imdsEndpoint: setup.imdsEndpoint,
      mtlsAuthorityHost: setup.mtlsAuthorityHost,
      ca: setup.caCertificatePem,
      env: {},
      keyProvider: {
        async getKey(identityKey) {
          const start = performance.now();
          const pair = await keys.getKey(identityKey);
          keySpan = { start, end: performance.now() };
          return pair;
        },
      },
    });
    const started = performance.now();
    await msi.acquireToken({ resource: "https://cold-start.example", mtlsProofOfPossession: true });
    const total = performance.now() - started;
    const span = (name: string) => {
      const s = spans.get(name);
      if (!s) throw new Error(`cold start: no ${name} request was seen`);
      return s;
    };
    const metadata = span("platformMetadata");
    const issue = span("issueCredential");
    const token = span("token");
    const measured = {
      platformMetadata: metadata.end - metadata.start,
      keyGeneration: keySpan.end - keySpan.start,
      csr: issue.start - keySpan.end,
      issueCredential: issue.end - issue.start,
      certificate: token.start - issue.end,
      token: token.end - token.start,
    };
    const sum = Object.values(measured).reduce((a, b) => a + b, 0);
    for (const [k, v] of Object.entries({ ...measured, other: total - sum, total })) {
      parts[k as keyof typeof parts].push(v);
    }
    // buildCsr alone with the key just made, for comparison with the gap measured above.
    const pair = await keys.getKey("system");
    const csrStart = performance.now();
    buildCsr({ tenantId: setup.tenantId, clientId: "bench", cuId: { vmId: "vm" }, ...pair });
    csrAlone.push(performance.now() - csrStart);
    msi.close();
    await inner.close();
  }
  const medianMs = Object.fromEntries(
    Object.entries(parts).map(([k, v]) => [k, round(median(v), 2)]),
  ) as ColdStartResult["medianMs"];
  return { runs: COLD_START_RUNS, medianMs, buildCsrAloneMs: round(median(csrAlone), 3) };
}

/** ResourceCaller + http-undici against a bare undici Agent, sequential and 50 in flight. */
async function resourceCallsAb() {
  const tokenTransport = newTransport();
  const app = benchApp(setup, tokenTransport);
  const scope = `${setup.resourceUrl}/.default`;
  const acquire = () => app.acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: true });
  try {
    const token = await acquire();
    const url = `${setup.resourceUrl}/bench`;
    return [
      await resourceAb(url, setup.caCertificatePem, token, acquire, 1),
      await resourceAb(url, setup.caCertificatePem, token, acquire, IN_FLIGHT),
    ];
  } finally {
    await app.close();
    await tokenTransport.close();
  }
}

/**
 * The first PoP acquisition of a new managed-identity client with its own key provider (which
 * starts the RSA key when the client is created), called at once and after a 200 ms pause.
 */
async function firstCall(): Promise<FirstCallResult> {
  const noGap: number[] = [];
  const gap: number[] = [];
  for (let run = 0; run < COLD_START_RUNS; run++) {
    for (const pauseMs of [0, 200]) {
      const transport = newTransport();
      const msi = createManagedIdentityClient({
        transport,
        imdsEndpoint: setup.imdsEndpoint,
        mtlsAuthorityHost: setup.mtlsAuthorityHost,
        ca: setup.caCertificatePem,
        env: {},
      });
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      const started = performance.now();
      await msi.acquireToken({ resource: "https://first-call.example", mtlsProofOfPossession: true });
      (pauseMs > 0 ? gap : noGap).push(performance.now() - started);
      msi.close();
      await transport.close();
    }
  }
  return { runs: COLD_START_RUNS, noGapMs: round(median(noGap), 1), gap200Ms: round(median(gap), 1) };
}

async function main(): Promise<CertboundResult> {
  progress("certbound: floor and core token manager");
  const { floor, coreTokenManager } = await benchCoreCacheHits(MANY);

  const transport = newTransport();
  const hits: CertboundResult["cacheHits"] = {};
  const fresh: CertboundResult["fresh"] = {};
  const memory: CertboundResult["memory"] = {};
  for (const flow of ["ccBearer", "ccPop", "miBearer", "miPop"] as const) {
    const {
      memory: grown,
      fresh: freshHits,
      ...pair
    } = await cacheHits(flow, transport, flow === "ccBearer" || flow === "miBearer");
    hits[flow] = pair;
    fresh[flow] = freshHits;
    if (grown) memory[flow] = grown;
  }
  await transport.close();

  const stampedes: CertboundResult["stampede"] = {};
  for (const flow of ["ccBearer", "ccPop", "miBearer", "miPop"] as const) {
    progress(`certbound: cold stampede, ${flow}`);
    stampedes[flow] = await stampede(flow);
  }
  progress("certbound: resource calls");
  const resource = await resourceCalls();
  progress("certbound: resource calls, ResourceCaller + http-undici against bare undici (interleaved)");
  const ab = await resourceCallsAb();
  progress("certbound: managed-identity PoP cold start");
  const cold = await coldStart();
  progress("certbound: managed-identity PoP first call after creation");
  const first = await firstCall();
  return {
    floor,
    coreTokenManager,
    cacheHits: hits,
    stampede: stampedes,
    resourceCalls: resource,
    coldStart: cold,
    fresh,
    firstCall: first,
    resourceAb: ab,
    memory,
  };
}

runWorker(main);
