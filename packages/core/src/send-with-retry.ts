import { type Clock, systemClock, throwIfAborted } from "./clock";
import { CertboundError, ServiceError } from "./errors";
import { parseRetryAfter } from "./retry-after";
import type { AttemptOutcome, RetryPolicy } from "./retry-policy";
import type { ThrottleGuard } from "./throttle-guard";
import type { HttpRequest, HttpResponse, HttpTransport } from "./transport";

/** Emitted before each retry's wait. */
export interface RetryEvent {
  readonly policy: string;
  /** 1 for the first retry. */
  readonly retry: number;
  readonly delayMs: number;
  /** Status of the attempt that is retried, when it got a response. */
  readonly status?: number | undefined;
  /** Error code of the attempt that is retried, when it got none. */
  readonly errorCode?: string | undefined;
  /** Origin and path of the request (no query string, which may hold identifiers). */
  readonly endpoint: string;
}

/** Options of {@link sendWithRetry}. */
export interface SendWithRetryOptions {
  policy: RetryPolicy;
  /** @default systemClock */
  clock?: Clock | undefined;
  /** Epoch milliseconds after which no retry starts. */
  deadline?: number | undefined;
  /** Aborts the attempt in flight and any wait. */
  signal?: AbortSignal | undefined;
  onRetry?: ((event: RetryEvent) => void) | undefined;
  /** Blocks identical requests locally after a `Retry-After` answer. */
  throttle?: { readonly guard: ThrottleGuard; readonly key: string } | undefined;
}

/**
 * Sends a request, retrying per `policy` on the injected clock. Resolves with the last response,
 * whatever its status (the caller reads error bodies); rejects with the last transport error.
 *
 * @example
 * ```ts
 * const response = await sendWithRetry(transport, request, { policy: imdsRetryPolicy, signal });
 * ```
 */
export async function sendWithRetry(
  transport: HttpTransport,
  request: HttpRequest,
  options: SendWithRetryOptions,
): Promise<HttpResponse> {
  const clock = options.clock ?? systemClock;
  const { policy, signal, throttle } = options;
  const endpoint = endpointOf(request.url);
  const blockedFor = throttle ? throttle.guard.remaining(throttle.key) : 0;
  if (blockedFor > 0) {
    throw new ServiceError(
      "throttled",
      `An identical request to ${endpoint} was answered with Retry-After; it is blocked locally for another ${Math.ceil(blockedFor / 1000)} s. Wait, or change the request.`,
      { status: 429, retryAfterMs: blockedFor },
    );
  }
  for (let retry = 1; ; retry++) {
    throwIfAborted(signal);
    let outcome: AttemptOutcome;
    let failure: unknown;
    try {
      const response = await transport.send(signal ? { ...request, signal } : request);
      outcome = { response };
      const retryAfter = response.headers["retry-after"];
      if (throttle && retryAfter !== undefined && (response.status === 429 || response.status >= 500)) {
        throttle.guard.block(throttle.key, parseRetryAfter(retryAfter, clock.now()) ?? 0);
      }
    } catch (error) {
      failure =
        error instanceof CertboundError
          ? error
          : new CertboundError("network_error", `The request to ${endpoint} failed: ${describe(error)}`, {
              cause: error,
            });
      if ((failure as CertboundError).code === "aborted") throw failure;
      outcome = { errorCode: (failure as CertboundError).code };
    }
    const now = clock.now();
    const delayMs = policy.delayBeforeRetry(retry, outcome, now);
    const pastDeadline =
      options.deadline !== undefined && delayMs !== undefined && now + delayMs > options.deadline;
    if (delayMs === undefined || pastDeadline) {
      if (outcome.response) return outcome.response;
      throw failure;
    }
    options.onRetry?.({
      policy: policy.name,
      retry,
      delayMs,
      status: outcome.response?.status,
      errorCode: outcome.errorCode,
      endpoint,
    });
    await clock.sleep(delayMs, signal);
  }
}

/**
 * `scheme://host/path` without the query string, which may carry identifiers.
 *
 * @example
 * ```ts
 * endpointOf("http://169.254.169.254/metadata/identity/oauth2/token?resource=x"); // no query
 * ```
 */
export function endpointOf(url: string): string {
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
