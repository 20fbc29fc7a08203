// Cancellation helpers shared by every certbound wait; kept apart from the clock so a custom
// Clock, a transport and a credential can use them without the timer machinery.
import { CertboundError } from "../protocol/errors";

/**
 * The error every certbound wait rejects with when its AbortSignal fires.
 *
 * @public
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
 * @public
 * @example
 * ```ts
 * throwIfAborted(options.signal);
 * ```
 */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(signal);
}

type AbortHook = () => void;
// One real listener per signal, however many waits share it: an app that passes one AbortSignal to
// fifty concurrent calls must not get a MaxListenersExceededWarning (nor must we raise its limit).
const abortHooks = new WeakMap<AbortSignal, Set<AbortHook>>();

/**
 * Runs `hook` once when `signal` fires, through a single listener per signal shared by every
 * certbound wait. Returns the function that cancels the subscription. Check `signal.aborted` first:
 * a signal that has already fired never fires again.
 *
 * @public
 * @example
 * ```ts
 * const unsubscribe = onAbort(signal, () => reject(abortedError(signal)));
 * try { return await work; } finally { unsubscribe(); }
 * ```
 */
export function onAbort(signal: AbortSignal, hook: () => void): () => void {
  let hooks = abortHooks.get(signal);
  if (hooks === undefined) {
    const created = new Set<AbortHook>();
    hooks = created;
    abortHooks.set(signal, created);
    signal.addEventListener(
      "abort",
      () => {
        abortHooks.delete(signal);
        for (const run of created) run();
        created.clear();
      },
      { once: true },
    );
  }
  const set = hooks;
  set.add(hook);
  return () => {
    set.delete(hook);
  };
}

/**
 * Resolves or rejects with `promise`, or rejects with `aborted` as soon as `signal` fires, whichever
 * comes first. The promise itself keeps running: this ends only the caller's wait.
 *
 * @public
 * @example
 * ```ts
 * const result = await raceAbort(sharedAcquisition, callerSignal);
 * ```
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortedError(signal));
  return new Promise<T>((resolve, reject) => {
    const unsubscribe = onAbort(signal, () => reject(abortedError(signal)));
    promise.then(
      (value) => {
        unsubscribe();
        resolve(value);
      },
      (error: unknown) => {
        unsubscribe();
        reject(error);
      },
    );
  });
}
