import { abortedError, onAbort } from "./abort";

/**
 * Time, waiting and randomness, injected everywhere so tests never wait on the wall clock.
 *
 * @public
 * @example
 * ```ts
 * const clock: Clock = systemClock;
 * await clock.sleep(1000, signal); // rejects with code "aborted" when signal fires
 * ```
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`; rejects with an `aborted` {@link CertboundError} when `signal` fires. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** A number in [0, 1). */
  random(): number;
}

/**
 * The longest delay a Node.js timer can hold: 2^31-1 ms (about 24.8 days). A longer one is silently
 * cut to 1 ms by Node, so every duration option is checked against it and longer sleeps are chained.
 *
 * @public
 * @example
 * ```ts
 * if (timeoutMs > MAX_TIMER_MS) throw invalidOptions(PACKAGE, "`timeoutMs` is too long.");
 * ```
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const backgroundSignals = new WeakSet<AbortSignal>();

/**
 * Marks `signal` as the signal of background work nobody awaits (a proactive token refresh): the
 * system clock's waits under it do not keep the process alive. Every other wait does, so that a
 * CLI awaiting a token never exits in the middle of a retry back-off.
 *
 * @public
 * @example
 * ```ts
 * const refreshes = new AbortController();
 * markBackgroundSignal(refreshes.signal);
 * await source.acquire({ ...request, signal: refreshes.signal });
 * ```
 */
export function markBackgroundSignal(signal: AbortSignal): AbortSignal {
  backgroundSignals.add(signal);
  return signal;
}

/**
 * Whether `signal` was marked with {@link markBackgroundSignal}; a custom {@link Clock} can use it
 * to let background waits not hold the process open, as the system clock does.
 *
 * @public
 * @example
 * ```ts
 * const timer = setTimeout(resolve, ms);
 * if (isBackgroundSignal(signal)) timer.unref();
 * ```
 */
export function isBackgroundSignal(signal: AbortSignal | undefined): boolean {
  return signal !== undefined && backgroundSignals.has(signal);
}

/**
 * Keeps the process alive until `promise` settles, and returns it. For a caller that joins work
 * started in the background (whose own timers may be unref'd) and now waits for it.
 *
 * @public
 * @example
 * ```ts
 * const result = await keepAliveUntilSettled(backgroundRefresh);
 * ```
 */
export function keepAliveUntilSettled<T>(promise: Promise<T>): Promise<T> {
  const holder = setInterval(() => {}, MAX_TIMER_MS);
  return promise.finally(() => clearInterval(holder));
}

/**
 * The real clock: `Date.now`, `setTimeout` and `Math.random`. A wait keeps the process alive (a CLI
 * awaiting a token must not exit in the middle of a retry back-off) unless its signal was marked
 * with {@link markBackgroundSignal}. Waits longer than {@link MAX_TIMER_MS} are chained, never cut
 * short; a negative or NaN duration waits 0 ms.
 *
 * @public
 * @example
 * ```ts
 * await systemClock.sleep(1000, signal);
 * ```
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  random: () => Math.random(),
  sleep(ms, signal) {
    if (signal?.aborted) return Promise.reject(abortedError(signal));
    const background = isBackgroundSignal(signal);
    return new Promise<void>((resolve, reject) => {
      let left = Number.isNaN(ms) ? 0 : Math.max(ms, 0);
      let timer: ReturnType<typeof setTimeout> | undefined;
      let unsubscribe: (() => void) | undefined;
      const done = () => {
        unsubscribe?.();
        resolve();
      };
      const arm = () => {
        const step = Math.min(left, MAX_TIMER_MS);
        left -= step;
        timer = setTimeout(left > 0 ? arm : done, step);
        if (background) timer.unref?.();
      };
      if (signal) {
        unsubscribe = onAbort(signal, () => {
          clearTimeout(timer);
          reject(abortedError(signal));
        });
      }
      arm();
    });
  },
};
