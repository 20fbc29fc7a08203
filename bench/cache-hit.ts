// Cache-hit throughput of core's token manager with 1 and 10,000 cached keys, against its physical
// floor: a bare awaited Map lookup with an expiry check, run in the same process.
import { createTokenManager, type TokenManagerRequest } from "@certbound/core";

export interface CacheHitRow {
  name: string;
  opsPerSecond: number;
  p50Us: number;
  p99Us: number;
}

const DURATION_MS = Number(process.env.BENCH_MS ?? 1500);

async function measure(name: string, op: (i: number) => Promise<unknown>): Promise<CacheHitRow> {
  for (let i = 0; i < 20_000; i++) await op(i); // warm-up (JIT)
  const samples: number[] = [];
  let n = 0;
  const started = performance.now();
  const end = started + DURATION_MS;
  while (performance.now() < end) {
    const t0 = performance.now();
    for (let j = 0; j < 100; j++) await op(n++);
    samples.push((performance.now() - t0) * 10); // microseconds per op within a batch of 100
  }
  const elapsed = performance.now() - started;
  samples.sort((a, b) => a - b);
  return {
    name,
    opsPerSecond: Math.round((n / elapsed) * 1000),
    p50Us: round(samples[Math.floor(samples.length * 0.5)] ?? 0),
    p99Us: round(samples[Math.floor(samples.length * 0.99)] ?? 0),
  };
}

const round = (x: number) => Math.round(x * 100) / 100;

export async function benchCacheHits(): Promise<CacheHitRow[]> {
  const rows: CacheHitRow[] = [];
  const floorMap = new Map<string, { expiresAt: number; token: string }>();
  floorMap.set("k", { expiresAt: Date.now() + 3600_000, token: "t" });
  rows.push(
    await measure("floor: awaited Map.get + expiry check", async () => {
      const e = floorMap.get("k");
      return e && e.expiresAt - Date.now() > 300_000 ? e.token : undefined;
    }),
  );
  for (const keys of [1, 10_000]) {
    const manager = createTokenManager({
      source: async (req) => ({
        accessToken: `token-for-${req.scopes[0]}`,
        tokenType: "Bearer",
        expiresOn: new Date(Date.now() + 3600_000),
      }),
    });
    const requests: TokenManagerRequest[] = Array.from({ length: keys }, (_, i) => ({
      clientId: "bench-app",
      authority: "https://login.microsoftonline.com/tenant",
      scopes: [`https://resource-${i}.example/.default`],
    }));
    for (const r of requests) await manager.acquireToken(r);
    rows.push(
      await measure(`certbound token manager, ${keys} cached key(s)`, (i) =>
        manager.acquireToken(requests[i % keys] as TokenManagerRequest),
      ),
    );
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await benchCacheHits();
  const floor = rows[0]?.opsPerSecond ?? 1;
  console.table(rows.map((r) => ({ ...r, "x floor": round(floor / r.opsPerSecond) })));
}
