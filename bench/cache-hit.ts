// Cache-hit throughput: the time-bounded measuring loop every cache-hit row of the bench uses, the
// physical floor (a bare awaited Map lookup with an expiry check) with 1 and 10,000 keys, and core's
// token manager on a synthetic source, so a client's own overhead can be told apart from core's.
// Run alone: `node --import tsx cache-hit.ts` (in bench/).
import { createTokenManager, type TokenManagerRequest } from "@certbound/core/credential-kit";

/** Throughput and per-call latency of one repeated asynchronous operation. */
export interface CacheHitStats {
  opsPerSecond: number;
  /** Median latency of one call, in microseconds (see {@link measureInterleaved} for the sampling). */
  p50Us: number;
  p99Us: number;
  /** Calls made while measuring. */
  ops: number;
  /** Calls per timed batch. */
  batch: number;
}

export interface CacheHitRow extends CacheHitStats {
  name: string;
}

export interface MeasureOptions {
  /** How long to measure each operation. @default env BENCH_MS, else 1000 */
  durationMs?: number;
  /** Longest warm-up of each operation (JIT, inline caches). @default 300 */
  warmupMs?: number;
}

export type Operation = (i: number) => Promise<unknown>;

export const DEFAULT_DURATION_MS = Number(process.env.BENCH_MS ?? 1000);
const WARMUP_MAX_OPS = 20_000;
const TARGET_BATCH_MS = 1;
/** Rounds per measurement; the median round's throughput is reported. */
export const ROUNDS = 5;

/**
 * Measures several operations in the same time window: each is called `op(0)`, `op(1)`, ... one
 * call after another (each awaited), in {@link ROUNDS} rounds that take turns, so that comparisons
 * between them (1 key against 10,000 keys, a client against the floor) are made under the same
 * machine load. The reported throughput is the median round's, so a burst of load from another
 * process moves one round, not the result.
 *
 * Everything is bounded by time, not by count: a fast cache does millions of calls per second and
 * msal-node with 10,000 keys does tens, and both must fit in the bench's time budget. The warm-up
 * calibrates a batch size so that one timed batch lasts about 1 ms; a latency sample is a batch's
 * duration divided by its size (timing each sub-microsecond call alone would mostly measure the
 * timer). For calls slower than 1 ms the batch is 1 and the percentiles are those of single calls.
 *
 * @example
 * ```ts
 * const { one, many } = await measureInterleaved({ one: (i) => hit(0), many: (i) => hit(i % 10_000) });
 * ```
 */
export async function measureInterleaved<K extends string>(
  ops: Record<K, Operation>,
  options: MeasureOptions = {},
): Promise<Record<K, CacheHitStats>> {
  const durationMs = options.durationMs ?? DEFAULT_DURATION_MS;
  const warmupMs = options.warmupMs ?? 300;
  const names = Object.keys(ops) as K[];
  const state = new Map<K, { op: Operation; batch: number; n: number; samples: number[]; rates: number[] }>();
  for (const name of names) {
    const op = ops[name];
    const warmStart = performance.now();
    let warm = 0;
    while (warm < WARMUP_MAX_OPS && performance.now() - warmStart < warmupMs) await op(warm++);
    const perOpMs = (performance.now() - warmStart) / Math.max(warm, 1);
    const batch = Math.min(1000, Math.max(1, Math.round(TARGET_BATCH_MS / perOpMs)));
    state.set(name, { op, batch, n: 0, samples: [], rates: [] });
  }
  for (let r = 0; r < ROUNDS; r++) {
    // Rotate who goes first, so no operation always runs right after the same neighbour.
    for (let k = 0; k < names.length; k++) {
      const s = state.get(names[(k + r) % names.length] as K);
      if (!s) continue;
      const roundStart = performance.now();
      const end = roundStart + durationMs / ROUNDS;
      const before = s.n;
      while (performance.now() < end) {
        const t0 = performance.now();
        for (let j = 0; j < s.batch; j++) await s.op(s.n++);
        s.samples.push(((performance.now() - t0) * 1000) / s.batch);
      }
      s.rates.push(((s.n - before) / (performance.now() - roundStart)) * 1000);
    }
  }
  const result = {} as Record<K, CacheHitStats>;
  for (const [name, s] of state) {
    s.samples.sort((a, b) => a - b);
    s.rates.sort((a, b) => a - b);
    result[name] = {
      opsPerSecond: Math.round(percentile(s.rates, 0.5)),
      p50Us: round(percentile(s.samples, 0.5)),
      p99Us: round(percentile(s.samples, 0.99)),
      ops: s.n,
      batch: s.batch,
    };
  }
  return result;
}

/**
 * One operation alone; see {@link measureInterleaved}.
 *
 * @example
 * ```ts
 * const stats = await measure((i) => manager.acquireToken(requests[i % requests.length]));
 * ```
 */
export async function measure(op: Operation, options?: MeasureOptions): Promise<CacheHitStats> {
  return (await measureInterleaved({ op }, options)).op;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

export const round = (x: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Distinct scopes for `keys` cached tokens; apps keep their scope arrays, so the bench does too. */
export function scopeSets(keys: number, prefix = "https://resource-"): (readonly string[])[] {
  return Array.from({ length: keys }, (_, i) => [`${prefix}${i}.example/.default`]);
}

/**
 * The physical floor of a cache hit: an awaited `Map.get` plus the "more than 5 minutes left" check,
 * over `keys` entries keyed by the same kind of strings the clients are asked for.
 *
 * @example
 * ```ts
 * const stats = await measure(floorOperation(10_000));
 * ```
 */
export function floorOperation(keys: number): Operation {
  const scopes = scopeSets(keys).map((s) => s[0] as string);
  const map = new Map<string, { expiresAt: number; token: string }>();
  for (const scope of scopes) map.set(scope, { expiresAt: Date.now() + 3600_000, token: `t-${scope}` });
  const lookup = async (key: string) => {
    const e = map.get(key);
    return e && e.expiresAt - Date.now() > 300_000 ? e.token : undefined;
  };
  return (i) => lookup(scopes[i % keys] as string);
}

/**
 * A second floor, shaped like a token: the same awaited `Map.get` over `keys` scope strings, but each
 * entry has the fields a cached token has (token, type, expiry, refresh time, scopes, tenant,
 * certificate, endpoint, key, marks) and a hit builds what any token cache must hand back: a new
 * result with its own `Date`s (shared ones could be changed by a caller) and metadata. No
 * validation, no key building, no library code: what the data alone costs, so the 10,000-key ratio
 * of a real cache can be read next to the ratio its data layout pays by itself.
 *
 * @example
 * ```ts
 * const stats = await measure(tokenFloorOperation(10_000));
 * ```
 */
export function tokenFloorOperation(keys: number): Operation {
  const scopes = scopeSets(keys).map((s) => s[0] as string);
  const now = Date.now();
  const certificate = Object.freeze({ x5tS256: "x".repeat(43) });
  const map = new Map<string, TokenFloorEntry>();
  for (const scope of scopes) {
    map.set(scope, {
      accessToken: `t-${scope}`,
      tokenType: "mtls_pop",
      expiresAt: now + 3600_000,
      refreshAt: now + 1800_000,
      scopes: Object.freeze([scope]),
      tenantId: "tenant",
      bindingCertificate: certificate,
      tokenEndpoint: "https://login.example/token",
      key: `${scope}\u0000mtls_pop`,
      used: true,
      live: true,
    });
  }
  let n = 0;
  const lookup = async (key: string) => {
    const e = map.get(key);
    const t = Date.now();
    if (e === undefined || !e.live || !(e.expiresAt - t > 300_000) || e.tokenType !== "mtls_pop")
      return undefined;
    return {
      accessToken: e.accessToken,
      tokenType: e.tokenType,
      expiresOn: new Date(e.expiresAt),
      refreshOn: e.refreshAt === undefined ? undefined : new Date(e.refreshAt),
      scopes: e.scopes,
      tenantId: e.tenantId,
      bindingCertificate: e.bindingCertificate,
      metadata: {
        tokenSource: "cache",
        correlationId: `c-${n++}`,
        tokenEndpoint: e.tokenEndpoint,
        durationMs: 0,
      },
    };
  };
  return (i) => lookup(scopes[i % keys] as string);
}

interface TokenFloorEntry {
  accessToken: string;
  tokenType: string;
  expiresAt: number;
  refreshAt: number | undefined;
  scopes: readonly string[];
  tenantId: string;
  bindingCertificate: object;
  tokenEndpoint: string;
  key: string;
  used: boolean;
  live: boolean;
}

/**
 * Makes a token manager from a fetcher: core's `createTokenManager` by default; `core-ab.ts` passes
 * another build's.
 */
export type TokenManagerFactory = (options: {
  fetcher: (req: {
    scopes: readonly string[];
  }) => Promise<{ accessToken: string; tokenType: "Bearer"; expiresOn: Date }>;
}) => { acquireToken(request: TokenManagerRequest): Promise<unknown>; close(): void };

/**
 * Core's token manager alone (no client in front of it) on a source that answers instantly, with
 * `keys` tokens cached.
 *
 * @example
 * ```ts
 * const { op, close } = await tokenManagerOperation(1);
 * ```
 */
export async function tokenManagerOperation(
  keys: number,
  create: TokenManagerFactory = createTokenManager,
): Promise<{ op: Operation; close(): void }> {
  const manager = create({
    fetcher: async (req) => ({
      accessToken: `token-for-${req.scopes[0]}`,
      tokenType: "Bearer",
      expiresOn: new Date(Date.now() + 3600_000),
    }),
  });
  const requests: TokenManagerRequest[] = scopeSets(keys).map((scopes) => ({
    clientId: "bench-app",
    authority: "https://login.microsoftonline.com/tenant",
    scopes,
  }));
  for (const r of requests) await manager.acquireToken(r);
  return {
    op: (i) => manager.acquireToken(requests[i % keys] as TokenManagerRequest),
    close: () => manager.close(),
  };
}

/** The floor and core's token manager with 1 and `many` keys, measured in the same rounds. */
export async function benchCoreCacheHits(many = 10_000): Promise<{
  floor: { one: CacheHitStats; many: CacheHitStats };
  coreTokenManager: { one: CacheHitStats; many: CacheHitStats };
}> {
  const one = await tokenManagerOperation(1);
  const lots = await tokenManagerOperation(many);
  try {
    const r = await measureInterleaved({
      floorOne: floorOperation(1),
      floorMany: floorOperation(many),
      coreOne: one.op,
      coreMany: lots.op,
    });
    return {
      floor: { one: r.floorOne, many: r.floorMany },
      coreTokenManager: { one: r.coreOne, many: r.coreMany },
    };
  } finally {
    one.close();
    lots.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { floor, coreTokenManager } = await benchCoreCacheHits();
  const rows: CacheHitRow[] = [
    { name: "floor: awaited Map.get + expiry check, 1 key", ...floor.one },
    { name: "floor: awaited Map.get + expiry check, 10,000 keys", ...floor.many },
    { name: "core token manager alone, 1 cached key", ...coreTokenManager.one },
    { name: "core token manager alone, 10,000 cached keys", ...coreTokenManager.many },
  ];
  console.table(
    rows.map((r) => ({ ...r, "x floor (1 key)": round(floor.one.opsPerSecond / r.opsPerSecond) })),
  );
}
