import { CertboundError, isCertboundError } from "../protocol/errors";
import type { Clock } from "../seams/clock";

/**
 * How long one token acquisition may take by default, all attempts and waits included: 90 s.
 * Long enough for IMDS's documented restart window (410 answers, retried 7 times 10 s apart) plus
 * the token request; short enough that a person or a health check waiting on it gets an answer.
 *
 * @public
 * @example
 * ```ts
 * const budget = new AcquisitionBudget({ clock, budgetMs: DEFAULT_ACQUISITION_TIMEOUT_MS, optionName: "acquisitionTimeoutMs" });
 * ```
 */
export const DEFAULT_ACQUISITION_TIMEOUT_MS = 90_000;

/**
 * Options of {@link AcquisitionBudget}.
 *
 * @public
 */
export interface AcquisitionBudgetOptions {
  readonly clock: Clock;
  /** The whole budget in milliseconds. */
  readonly budgetMs: number;
  /** The option that sets the budget, named in the error so the user knows what to raise. */
  readonly optionName: string;
  /** The correlation id the error carries. */
  readonly correlationId?: string | undefined;
}

/**
 * The deadline of one token acquisition (every request, retry and wait it makes), and a record of
 * what it tried, so that running out of time fails with an error that says what was attempted and
 * for how long. Pass it to every {@link sendWithRetry} of the acquisition as `budget`.
 *
 * @public
 * @example
 * ```ts
 * const budget = new AcquisitionBudget({ clock, budgetMs: 90_000, optionName: "acquisitionTimeoutMs" });
 * const metadata = await sendWithRetry(transport, metadataRequest, { policy: imdsRetryPolicy, clock, budget });
 * const token = await sendWithRetry(transport, tokenRequest, { policy: tokenEndpointRetryPolicy, clock, budget });
 * ```
 */
export class AcquisitionBudget {
  readonly startedAt: number;
  /** Epoch milliseconds at which the acquisition gives up. */
  readonly deadline: number;
  readonly #options: AcquisitionBudgetOptions;
  readonly #attempts = new Map<string, string[]>();

  constructor(options: AcquisitionBudgetOptions) {
    this.#options = options;
    this.startedAt = options.clock.now();
    this.deadline = this.startedAt + options.budgetMs;
  }

  /** Milliseconds left, never negative. */
  remaining(now: number = this.#options.clock.now()): number {
    return Math.max(0, this.deadline - now);
  }

  /** Notes one attempt at `endpoint` and how it ended (a status or an error code). */
  record(endpoint: string, outcome: string): void {
    const list = this.#attempts.get(endpoint);
    if (list) list.push(outcome);
    else this.#attempts.set(endpoint, [outcome]);
  }

  /** What was tried, e.g. `4 attempts at http://169.254.169.254/metadata/identity/oauth2/token (timeout, 500, 500, 500)`. */
  describe(): string {
    if (this.#attempts.size === 0) return "no request was sent";
    return [...this.#attempts]
      .map(([endpoint, outcomes]) => {
        // Bounded: a long run of identical outcomes is summarised, never a huge message.
        const shown = outcomes.length > 10 ? [...outcomes.slice(0, 9), "..."] : outcomes;
        return `${outcomes.length} attempt${outcomes.length === 1 ? "" : "s"} at ${endpoint} (${shown.join(", ")})`;
      })
      .join("; ");
  }

  /**
   * `failure` (the last attempt's error) with what the acquisition tried and for how long added to
   * its message; same code, the original as `cause`.
   */
  annotate(failure: unknown): unknown {
    if (!isCertboundError(failure)) return failure;
    const tookS = ((this.#options.clock.now() - this.startedAt) / 1000).toFixed(1);
    return new CertboundError(failure.code, `${failure.message} Tried ${this.describe()}, over ${tookS} s.`, {
      cause: failure,
      correlationId: failure.correlationId ?? this.#options.correlationId,
    });
  }

  /** The `timeout` error of an acquisition that ran out of time; `cause` is the last failure, if any. */
  exceeded(cause?: unknown): CertboundError {
    const { optionName, budgetMs, clock, correlationId } = this.#options;
    const tookS = ((clock.now() - this.startedAt) / 1000).toFixed(1);
    return new CertboundError(
      "timeout",
      `No token within ${optionName} (${budgetMs} ms): gave up after ${tookS} s and ${this.describe()}. Check that these endpoints answer, or raise ${optionName}.`,
      { cause, correlationId },
    );
  }
}
