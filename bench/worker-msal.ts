// @azure/msal-node 7.2.3's half of the bench, in its own process: run.ts starts it with
// NODE_EXTRA_CA_CERTS (the emulator's CA; Node reads it only at start-up) and
// AZURE_POD_IDENTITY_AUTHORITY_HOST (msal-node's IMDS override) in its environment, and points it at
// the emulator only through msal-node's documented options (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s8-third-party-clients).
import {
  type AuthenticationResult,
  ConfidentialClientApplication,
  ManagedIdentityApplication,
} from "@azure/msal-node";
import { measure, round, scopeSets } from "./cache-hit";
import {
  emulatorCounts,
  resetEmulatorCounts,
  runWorker,
  summarizeRequests,
  workerSetup,
} from "./emulator-link";
import { inParallel, progress, settledHeapBytes } from "./measure-tools";
import type { CacheHitResult, MemoryResult, MsalResult, StampedeResult } from "./result-types";

const setup = workerSetup();
const MANY = Number(process.env.BENCH_KEYS ?? 10_000);
/**
 * msal-node's managed-identity cache has no import API, and every token it stores scans the
 * whole cache, so filling N keys costs O(N^2): about 6 s for 1,000 keys here and minutes for
 * 10,000. Its rows use 1,000 keys and say so.
 */
const MANY_MANAGED_IDENTITY = Math.min(MANY, Number(process.env.BENCH_MSAL_MI_KEYS ?? 1000));
const STAMPEDE_CALLERS = 1000;
const FILL_CONCURRENCY = 8;

const authorityHost = new URL(setup.authorityHost).host;

/**
 * A confidential client pointed at the emulator: `knownAuthorities` skips instance discovery, and
 * msal-node signs its own PS256 assertion (`thumbprintSha256` selects PS256). It signs one assertion
 * per application object and reuses it for about ten minutes, which the emulator accepts by
 * default, as Entra does.
 */
function confidentialClient(): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: {
      clientId: setup.app.clientId,
      authority: `${setup.authorityHost}/${setup.tenantId}`,
      knownAuthorities: [authorityHost],
      clientCertificate: {
        thumbprintSha256: Buffer.from(setup.app.x5tS256, "base64url").toString("hex"),
        privateKey: setup.app.privateKeyPem,
      },
    },
  });
}

function expectFromCache(result: AuthenticationResult | null, what: string): AuthenticationResult {
  if (!result?.fromCache) throw new Error(`msal-node: ${what} was not served from its cache`);
  return result;
}

async function confidentialCacheHits(): Promise<{ one: CacheHitResult; many: CacheHitResult }> {
  const scopes = scopeSets(MANY);
  const requests = scopes.map((s) => ({ scopes: [...s] }));
  const first = request(requests, 0);

  progress("msal-node: cache hits, ccBearer, 1 key");
  const single = confidentialClient();
  await single.acquireTokenByClientCredential(first);
  expectFromCache(await single.acquireTokenByClientCredential(first), "the second call");
  const one = {
    ...(await measure(() => single.acquireTokenByClientCredential(first))),
    keys: 1,
    fill: { method: "1 token request", ms: 0 },
  };

  // 10,000 token requests would take many minutes (each cache write scans the cache), so the
  // cache is loaded through msal-node's own serialization: the entry of one real token, copied
  // under each of the N scopes, in msal-node's schema. Lookups then scan exactly what N real
  // acquisitions would have left behind.
  progress(`msal-node: cache hits, ccBearer, ${MANY} keys (deserializing)`);
  const serialized = JSON.parse(single.getTokenCache().serialize()) as {
    AccessToken: Record<string, { target: string } & Record<string, unknown>>;
  };
  const [templateKey, template] = Object.entries(serialized.AccessToken)[0] ?? [];
  if (!templateKey || !template) throw new Error("msal-node's serialized cache holds no access token");
  const targetInKey = template.target.toLowerCase();
  if (!templateKey.includes(targetInKey)) throw new Error("unexpected msal-node cache key format");
  const accessTokens: Record<string, unknown> = {};
  for (const [s] of scopes) {
    const target = s as string;
    accessTokens[templateKey.replace(targetInKey, target.toLowerCase())] = { ...template, target };
  }
  const filled = JSON.stringify({ ...serialized, AccessToken: accessTokens });
  const app = confidentialClient();
  await app.acquireTokenByClientCredential(request(requests, MANY - 1)); // authority metadata, like a warm app
  // No heap measurement here: V8 keeps long strings from JSON.parse as slices of the parsed text,
  // so every cached token would pin the whole serialized cache. The memory row uses real requests.
  const started = performance.now();
  app.getTokenCache().deserialize(filled);
  const fillMs = performance.now() - started;
  expectFromCache(await app.acquireTokenByClientCredential(request(requests, 0)), "key 0");
  const many = {
    ...(await measure((i) => app.acquireTokenByClientCredential(request(requests, i % MANY)))),
    keys: MANY,
    fill: { method: "tokenCache.deserialize() of N entries built from one real token", ms: round(fillMs, 0) },
  };
  return { one, many };
}

function describeError(error: unknown): string {
  return error instanceof Error ? (error.message.split("\n")[0]?.slice(0, 200) ?? error.name) : String(error);
}

function request<T>(requests: readonly T[], i: number): T {
  return requests[i] as T;
}

async function managedIdentityCacheHits(): Promise<{
  one: CacheHitResult;
  many: CacheHitResult;
  memory: MemoryResult;
}> {
  const resources = scopeSets(MANY_MANAGED_IDENTITY).map(([s]) => ({
    resource: (s as string).replace("/.default", ""),
  }));
  // One application object; msal-node keeps managed-identity tokens in a store shared by all of them.
  const mi = new ManagedIdentityApplication();
  progress("msal-node: cache hits, miBearer, 1 key");
  const first = await mi.acquireToken(request(resources, 0));
  expectFromCache(await mi.acquireToken(request(resources, 0)), "the second call");
  const one = {
    ...(await measure(() => mi.acquireToken(request(resources, 0)))),
    keys: 1,
    fill: { method: "1 token request", ms: 0 },
  };
  progress(`msal-node: cache hits, miBearer, ${MANY_MANAGED_IDENTITY} keys (filling)`);
  const before = settledHeapBytes();
  const fillMs = await inParallel(MANY_MANAGED_IDENTITY - 1, FILL_CONCURRENCY, (i) =>
    mi.acquireToken(request(resources, i + 1)),
  );
  const after = settledHeapBytes();
  expectFromCache(await mi.acquireToken(request(resources, MANY_MANAGED_IDENTITY - 1)), "the last key");
  const many = {
    ...(await measure((i) => mi.acquireToken(request(resources, i % MANY_MANAGED_IDENTITY)))),
    keys: MANY_MANAGED_IDENTITY,
    fill: {
      method: `${MANY_MANAGED_IDENTITY} token requests, ${FILL_CONCURRENCY} in flight`,
      ms: round(fillMs, 0),
    },
  };
  const entries = MANY_MANAGED_IDENTITY - 1;
  return {
    one,
    many,
    memory: {
      entries,
      heapGrowthBytes: after - before,
      bytesPerEntry: Math.round((after - before) / entries),
      tokenChars: first.accessToken.length,
      method:
        "heapUsed after gc, before and after caching the tokens of keys 1..N-1 (key 0 warmed the client up)",
    },
  };
}

async function stampede(acquire: () => Promise<AuthenticationResult | null>): Promise<StampedeResult> {
  await resetEmulatorCounts();
  const started = performance.now();
  // allSettled: msal-node opens a connection per caller, and some of them fail (see the report).
  const settled = await Promise.allSettled(Array.from({ length: STAMPEDE_CALLERS }, acquire));
  const wallMs = performance.now() - started;
  const { requests } = await emulatorCounts();
  const tokens = settled.flatMap((r) => (r.status === "fulfilled" && r.value ? [r.value.accessToken] : []));
  const failures = settled.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
  return {
    callers: STAMPEDE_CALLERS,
    wallMs: round(wallMs, 1),
    distinctTokens: new Set(tokens).size,
    failedCallers: failures.length,
    ...(failures[0] !== undefined && { firstError: describeError(failures[0]) }),
    requests: Object.fromEntries(Object.entries(requests).filter(([, n]) => n > 0)),
    ...summarizeRequests(requests),
  };
}

async function main(): Promise<MsalResult> {
  const cc = await confidentialCacheHits();
  const mi = await managedIdentityCacheHits();
  progress("msal-node: cold stampede, ccBearer");
  const freshApp = confidentialClient();
  const ccStampede = await stampede(() =>
    freshApp.acquireTokenByClientCredential({ scopes: ["https://stampede.example/.default"] }),
  );
  progress("msal-node: cold stampede, miBearer");
  const freshMi = new ManagedIdentityApplication();
  const miStampede = await stampede(() => freshMi.acquireToken({ resource: "https://stampede.example" }));
  return {
    cacheHits: { ccBearer: cc, miBearer: { one: mi.one, many: mi.many } },
    stampede: { ccBearer: ccStampede, miBearer: miStampede },
    memory: { miBearer: mi.memory },
  };
}

runWorker(main);
