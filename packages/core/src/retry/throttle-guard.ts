import type { Clock } from "../seams/clock";
import { LruMap } from "../token-cache/lru-map";

/**
 * The longest a `Retry-After` may block identical requests locally: 1 hour, as MSAL.NET's
 * `RetryAfterProvider.MaxRetryAfter`.
 *
 * @public
 * @example
 * ```ts
 * guard.block(key, Math.min(retryAfterMs, MAX_THROTTLE_MS));
 * ```
 */
export const MAX_THROTTLE_MS = 60 * 60 * 1000;

/**
 * Remembers `Retry-After` answers so that identical requests fail fast locally until the time
 * passes, instead of hammering a service that asked us to back off. Bounded in size and duration.
 *
 * @public
 * @example
 * ```ts
 * const throttle = new ThrottleGuard(clock);
 * await sendWithRetry(transport, request, { policy: tokenEndpointRetryPolicy, throttle, throttleKey });
 * ```
 */
export class ThrottleGuard {
  readonly #until = new LruMap<string, { readonly at: number; readonly status: number | undefined }>(1000);
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Milliseconds this request must still wait, or 0. */
  remaining(key: string): number {
    const until = this.#until.get(key);
    if (until === undefined) return 0;
    const left = until.at - this.#clock.now();
    if (left <= 0) this.#until.delete(key);
    return Math.max(0, left);
  }

  /** The status of the answer that blocked `key`, while it is blocked. */
  status(key: string): number | undefined {
    return this.#until.get(key)?.status;
  }

  /** Blocks `key` for `ms` (at most {@link MAX_THROTTLE_MS}); `status` is the answer that asked for it. */
  block(key: string, ms: number, status?: number): void {
    if (ms > 0) this.#until.set(key, { at: this.#clock.now() + Math.min(ms, MAX_THROTTLE_MS), status });
  }
}
