import { CertboundError } from "../protocol/errors";
import { abortedError, onAbort } from "../seams/abort";
import { type Clock, MAX_TIMER_MS, systemClock } from "../seams/clock";

// Cancels a finished attempt's timer. Shared, and passed as the abort reason, so that cancelling a
// timer on every request creates no DOMException and no error (both capture a stack trace, which
// profiling showed as a tenth of a keep-alive request's CPU).
const TIMER_DISPOSED = new CertboundError("aborted", "The attempt finished before its timeout.");

/**
 * One attempt's cancellation: fires on the caller's AbortSignal or when `timeoutMs` passes on the
 * injected clock (so tests drive timeouts with a test clock instead of waiting), and remembers
 * which of the two it was, because an HTTP client reports both as the same abort.
 *
 * @public
 * @example
 * ```ts
 * const attempt = new Attempt(clock, request.timeoutMs, request.signal);
 * try {
 *   const response = await attempt.race(client.request({ signal: attempt.signal }), (late) => late.body.destroy());
 *   return await readResponse(response);
 * } catch (error) {
 *   throw attempt.failure(endpoint) ?? mapTransportError(error, { endpoint, withCertificate });
 * } finally {
 *   attempt.dispose();
 * }
 * ```
 */
export class Attempt {
  // Made on first use of `signal`: a transport that cancels through `onCancel` (http-undici's own
  // dispatch handler) never needs one, and an AbortController with its listeners was a tenth of a
  // keep-alive request's CPU.
  #controller: AbortController | undefined;
  // The injected clock's wait is cancelled through this; the system clock's is a plain timer.
  #timer: AbortController | undefined;
  #timeout: ReturnType<typeof setTimeout> | undefined;
  readonly #outer: AbortSignal | undefined;
  readonly #timeoutMs: number | undefined;
  #reason: "timeout" | "aborted" | undefined;
  #cancelListener: (() => void) | undefined;
  // Through the shared hook, not a listener per attempt: one signal may serve many requests at once.
  #unsubscribe: (() => void) | undefined;
  // race()'s side of the cancellation, made on first use of race().
  #rejectCancelled: ((reason: unknown) => void) | undefined;
  #cancelled: Promise<never> | undefined;

  constructor(clock: Clock, timeoutMs: number | undefined, outer: AbortSignal | undefined) {
    this.#outer = outer;
    this.#timeoutMs = timeoutMs;
    if (outer?.aborted) {
      // A signal that has already fired never fires again: the attempt is over before it starts.
      this.#fire("aborted");
      return;
    }
    if (outer) this.#unsubscribe = onAbort(outer, () => this.#fire("aborted"));
    if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
      const ms = Math.max(0, timeoutMs);
      // The system clock's sleep is this very setTimeout; called directly it needs no controller,
      // no abort listener and no abort event to cancel (together a tenth of a keep-alive call).
      if (clock === systemClock && ms <= MAX_TIMER_MS) {
        this.#timeout = setTimeout(() => this.#fire("timeout"), ms);
        return;
      }
      this.#timer = new AbortController();
      clock.sleep(ms, this.#timer.signal).then(
        () => this.#fire("timeout"),
        // dispose() cancels the wait: nothing to do.
        () => {},
      );
    }
  }

  /** Pass this to the HTTP client. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#reason) this.#controller.abort(this.#abortReason(this.#reason));
    }
    return this.#controller.signal;
  }

  /**
   * Calls `listener` once when the attempt is cancelled (timeout or the caller's abort), or at once
   * if it already was: for an HTTP client cancelled through a function of its own rather than an
   * AbortSignal. One listener per attempt; a second call replaces the first.
   *
   * @example
   * ```ts
   * attempt.onCancel(() => controller.abort(new Error("cancelled")));
   * ```
   */
  onCancel(listener: () => void): void {
    if (this.#reason) {
      listener();
      return;
    }
    this.#cancelListener = listener;
  }

  #abortReason(reason: "timeout" | "aborted"): CertboundError {
    return reason === "timeout" ? new CertboundError("timeout", "timed out") : abortedError(this.#outer);
  }

  #fire(reason: "timeout" | "aborted"): void {
    if (this.#reason) return;
    this.#reason = reason;
    this.#rejectCancelled?.(new Error(reason));
    this.#controller?.abort(this.#abortReason(reason));
    const listener = this.#cancelListener;
    this.#cancelListener = undefined;
    listener?.();
  }

  /**
   * Settles like `work`, or rejects as soon as the attempt is cancelled, even when the client defers
   * an abort until a connection is ready (undici does): a stalled TLS handshake must not outlive
   * the timeout. A result that arrives after cancellation goes to `discard`, so nothing leaks.
   */
  race<T>(work: Promise<T>, discard: (late: T) => void): Promise<T> {
    if (this.#reason) {
      work.then(discard, () => {});
      return Promise.reject(new Error(this.#reason));
    }
    if (this.#cancelled === undefined) {
      this.#cancelled = new Promise<never>((_resolve, reject) => {
        this.#rejectCancelled = reject;
      });
      // Nobody may be racing when the attempt is cancelled: never an unhandled rejection.
      this.#cancelled.catch(() => {});
    }
    return Promise.race([work, this.#cancelled]).catch((error: unknown) => {
      if (this.#reason) work.then(discard, () => {});
      throw error;
    });
  }

  /** The error to throw when this attempt was cancelled, whatever the client reported. */
  failure(endpoint: string): CertboundError | undefined {
    if (this.#reason === "aborted") return abortedError(this.#outer);
    if (this.#reason === "timeout") {
      return new CertboundError(
        "timeout",
        `The request to ${endpoint} did not complete within timeoutMs (${this.#timeoutMs} ms). Raise timeoutMs, or check that the server answers.`,
      );
    }
    return undefined;
  }

  /** Stops the timer and lets go of the caller's signal (and of the `onCancel` listener). */
  dispose(): void {
    if (this.#timeout !== undefined) clearTimeout(this.#timeout);
    this.#timer?.abort(TIMER_DISPOSED);
    this.#unsubscribe?.();
    this.#cancelListener = undefined;
  }
}
