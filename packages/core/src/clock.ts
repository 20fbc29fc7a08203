import { CertboundError } from "./errors";

/**
 * Time, waiting and randomness, injected everywhere so tests never wait on the wall clock.
 *
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
 * The error every certbound wait rejects with when its AbortSignal fires.
 *
 * @example
 * ```ts
 * if (signal.aborted) throw abortedError(signal);
 * ```
 */
export function abortedError(signal?: AbortSignal): CertboundError {
  const reason: unknown = signal?.reason;
  // Already ours (e.g. a timer cancelled with a shared reason): pass it on instead of wrapping it,
  // which also spares the stack capture of a new error on every cancelled wait.
  if (reason instanceof CertboundError && reason.code === "aborted") return reason;
  return new CertboundError("aborted", "The operation was aborted by its AbortSignal.", { cause: reason });
}

/**
 * Throws an `aborted` error when `signal` has fired.
 *
 * @example
 * ```ts
 * throwIfAborted(options.signal);
 * ```
 */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(signal);
}

/**
 * Resolves or rejects with `promise`, or rejects with `aborted` as soon as `signal` fires, whichever
 * comes first. The promise itself keeps running: this ends only the caller's wait.
 *
 * @example
 * ```ts
 * const result = await raceAbort(sharedAcquisition, callerSignal);
 * ```
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortedError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortedError(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/**
 * The real clock: `Date.now`, `setTimeout` (unref'd, so a pending retry never keeps a process alive
 * on its own) and `Math.random`.
 *
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
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortedError(signal));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      timer.unref?.();
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  },
};
