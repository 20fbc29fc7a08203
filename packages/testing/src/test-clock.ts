import type { Clock } from "@certbound/core";
import { abortedError, onAbort } from "@certbound/core/credential-kit";

/**
 * A {@link Clock} under the test's control.
 *
 * @public
 */
export interface TestClock extends Clock {
  /** Every `sleep` duration requested, in order: assert retry schedules on this. */
  readonly sleeps: number[];
  /** Moves time forward, resolving the sleeps that come due, in order. */
  advance(ms: number): Promise<void>;
  /** Sets the value `random()` returns. */
  setRandom(value: number): void;
  /** Number of sleeps still waiting. */
  readonly pending: number;
}

/**
 * A clock for tests: no wall time passes. With `autoAdvance` (the default) every `sleep` moves time
 * forward by its duration and resolves at once, so a retry schedule runs instantly and is recorded
 * in `sleeps`; without it, sleeps wait for `advance()`.
 *
 * @public
 * @example
 * ```ts
 * const clock = createTestClock();
 * await sendWithRetry(transport, request, { policy: imdsRetryPolicy, clock });
 * expect(clock.sleeps).toEqual([1000, 2000, 4000]);
 * ```
 */
export function createTestClock(
  options: { now?: number; autoAdvance?: boolean; random?: number } = {},
): TestClock {
  let now = options.now ?? Date.UTC(2026, 0, 1);
  let random = options.random ?? 0.5;
  const autoAdvance = options.autoAdvance ?? true;
  const sleeps: number[] = [];
  const waiting: Array<{ at: number; resolve: () => void }> = [];

  return {
    sleeps,
    now: () => now,
    random: () => random,
    setRandom(value) {
      random = value;
    },
    get pending() {
      return waiting.length;
    },
    sleep(ms, signal) {
      sleeps.push(ms);
      if (signal?.aborted) return Promise.reject(abortedError(signal));
      if (autoAdvance) {
        now += ms;
        return Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => {
        // Through the shared hook, as the system clock does: many sleeps may share one signal.
        const unsubscribe = signal
          ? onAbort(signal, () => {
              waiting.splice(waiting.indexOf(entry), 1);
              reject(abortedError(signal));
            })
          : undefined;
        const entry = {
          at: now + ms,
          resolve: () => {
            unsubscribe?.();
            resolve();
          },
        };
        waiting.push(entry);
      });
    },
    async advance(ms) {
      const target = now + ms;
      for (;;) {
        waiting.sort((a, b) => a.at - b.at);
        const next = waiting[0];
        if (!next || next.at > target) break;
        waiting.shift();
        now = next.at;
        next.resolve();
        // Let the woken code run (and maybe schedule its next sleep) before going on.
        await new Promise<void>((r) => setImmediate(r));
      }
      now = target;
    },
  };
}
