// Small tools shared by the bench processes: bounded parallelism, settled heap size, median, progress lines.

/** Runs `task(0..count-1)` with at most `concurrency` in flight; resolves with the wall time in ms. */
export async function inParallel(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<unknown>,
): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
  return performance.now() - started;
}

/** Heap in use after two full collections (the worker runs with --expose-gc). */
export function settledHeapBytes(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run the bench worker with --expose-gc (run.ts does)");
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Median of a few numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Logs a progress line on stderr, so stdout keeps only the report. */
export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
