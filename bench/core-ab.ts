// Core's token manager alone, two builds side by side in one process: the cache-hit row "core
// token manager alone" of run.ts, compared before/after a change without the noise of two
// processes on a shared machine. Build the other tree in a worktree of its own first, then (in
// bench/):
//
//   node --import tsx core-ab.ts <before>/packages/core/dist/index.js <after>/packages/core/dist/credential-kit.js
//
// Each argument is a built entry of @certbound/core that exports createTokenManager (older trees
// export it from `index.js`, newer ones from `credential-kit.js`). BENCH_ROUNDS (default 12, the
// first two are warm-up) rounds of BENCH_CALLS (default 200,000) awaited hits per operation, the
// order reversed every other round; the floor of cache-hit.ts is measured in the same rounds.
//
// Instructions instead of time (load does not move them): `--count <entry> <n>` makes 30,000
// warm-up hits and then n hits on one key, to run under
// `valgrind --tool=callgrind node --single-threaded`; the difference between two counts divided by
// the difference in n is the cost of one hit, the driver's loop and `await` included.
import { pathToFileURL } from "node:url";
import { floorOperation, type Operation, type TokenManagerFactory, tokenManagerOperation } from "./cache-hit";
import { median } from "./measure-tools";

// The same manager and requests as run.ts's "core token manager alone" rows (a reused request
// object per key, as those rows have had from the start, so before/after compare like with like),
// made by the build at `entry`.
async function factoryFrom(entry: string): Promise<TokenManagerFactory> {
  const lib = (await import(pathToFileURL(entry).href)) as { createTokenManager?: TokenManagerFactory };
  const create = lib.createTokenManager;
  if (typeof create !== "function") {
    throw new Error(
      `${entry} does not export createTokenManager: pass core's built index.js or credential-kit.js`,
    );
  }
  // The option was `source` before it was `fetcher` (newer builds refuse `source` with `fetcher`).
  return (options) => {
    try {
      return create(options);
    } catch {
      return create({ source: options.fetcher } as unknown as Parameters<TokenManagerFactory>[0]);
    }
  };
}

const hits = async (entry: string, keys: number): Promise<Operation> =>
  (await tokenManagerOperation(keys, await factoryFrom(entry))).op;

const args = process.argv.slice(2);
if (args[0] === "--count") {
  const [, entry = "", n = "100000"] = args;
  const op = await hits(entry, 1);
  for (let i = 0; i < 30_000; i++) await op(i);
  for (let i = 0; i < Number(n); i++) await op(i);
  process.exit(0);
}
const [before, after] = args;
if (!before || !after) {
  console.error("usage: core-ab.ts <before core entry> <after core entry> | --count <core entry> <n>");
  process.exit(2);
}
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12);
const CALLS = Number(process.env.BENCH_CALLS ?? 200_000);
const ops: Record<string, Operation> = {};
for (const keys of [1, 10_000]) {
  ops[`before ${keys}`] = await hits(before, keys);
  ops[`after ${keys}`] = await hits(after, keys);
  ops[`floor ${keys}`] = floorOperation(keys);
}
const nsPerHit: Record<string, number[]> = Object.fromEntries(Object.keys(ops).map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  const names = Object.keys(ops);
  if (round % 2) names.reverse();
  for (const name of names) {
    const op = ops[name] as Operation;
    const t0 = performance.now();
    for (let i = 0; i < CALLS; i++) await op(i);
    // The first two rounds warm the JIT up.
    if (round >= 2) nsPerHit[name]?.push(((performance.now() - t0) * 1e6) / CALLS);
  }
}
for (const keys of [1, 10_000]) {
  const b = nsPerHit[`before ${keys}`] ?? [];
  const a = nsPerHit[`after ${keys}`] ?? [];
  const f = median(nsPerHit[`floor ${keys}`] ?? []);
  const perRound = a.map((x, i) => (x / (b[i] as number)).toFixed(2)).join(" ");
  console.log(
    `${keys} key(s): before ${median(b).toFixed(0)} ns (${(median(b) / f).toFixed(2)}x floor), after ${median(a).toFixed(0)} ns (${(median(a) / f).toFixed(2)}x floor); after/before ${(median(a) / median(b)).toFixed(2)}, per round ${perRound}`,
  );
}
