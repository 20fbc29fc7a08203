import {
  currentAcquisition,
  describeUrl,
  diagnostics,
  diagnosticsError,
  type HttpRequestEvent,
  type RetryDiagnosticsEvent,
} from "../diagnostics/diagnostics";
import { CertboundError, ServiceError } from "../protocol/errors";
import { throwIfAborted } from "../seams/abort";
import { type Clock, systemClock } from "../seams/clock";
import type { HttpRequest, HttpResponse, HttpTransport } from "../seams/transport";
import type { AcquisitionBudget } from "./acquisition-budget";
import { parseRetryAfter } from "./retry-after";
import type { AttemptOutcome, RetryPolicy } from "./retry-policy";
import type { ThrottleGuard } from "./throttle-guard";

/**
 * Emitted before each retry's wait.
 *
 * @public
 */
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

/**
 * Options of {@link sendWithRetry}.
 *
 * @public
 */
export interface SendWithRetryOptions {
  policy: RetryPolicy;
  /** @default systemClock */
  clock?: Clock | undefined;
  /** Epoch milliseconds after which no retry starts. */
  deadline?: number | undefined;
  /**
   * The deadline of the whole acquisition this request belongs to. Each attempt's `timeoutMs` is cut
   * to the time left; a retry that cannot fit fails with `timeout` naming what was tried, and a
   * `Retry-After` longer than the time left fails at once with `throttled`.
   */
  budget?: AcquisitionBudget | undefined;
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
 * @public
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
  const { policy, signal, throttle, budget } = options;
  const endpoint = endpointOf(request.url);
  const blockedFor = throttle ? throttle.guard.remaining(throttle.key) : 0;
  if (blockedFor > 0) {
    throw new ServiceError(
      "throttled",
      `An identical request to ${endpoint} was answered with Retry-After; it is blocked locally for another ${Math.ceil(blockedFor / 1000)} s. Wait, or change the request.`,
      { status: throttle?.guard.status(throttle.key) ?? 429, retryAfterMs: blockedFor },
    );
  }
  let failure: unknown;
  for (let retry = 1; ; retry++) {
    throwIfAborted(signal);
    let attemptRequest = signal ? { ...request, signal } : request;
    if (budget) {
      const left = budget.remaining();
      if (left <= 0) throw budget.exceeded(failure);
      // No attempt outlives the acquisition's deadline.
      if (request.timeoutMs === undefined || request.timeoutMs > left) {
        attemptRequest = { ...attemptRequest, timeoutMs: Math.ceil(left) };
      }
    }
    let outcome: AttemptOutcome;
    failure = undefined;
    const traced = diagnostics.requestStart.hasSubscribers
      ? startRequestEvent(request, retry, policy.name, clock)
      : undefined;
    try {
      const response = await transport.send(attemptRequest);
      traced?.end(response.status);
      outcome = { response };
      budget?.record(endpoint, String(response.status));
      const retryAfter = response.headers["retry-after"];
      // Any error answer with Retry-After, not only 429/5xx, as MSAL.NET's RetryAfterProvider does.
      if (throttle && retryAfter !== undefined && response.status >= 400) {
        throttle.guard.block(throttle.key, parseRetryAfter(retryAfter, clock.now()) ?? 0, response.status);
      }
    } catch (error) {
      failure =
        error instanceof CertboundError
          ? error
          : new CertboundError("network_error", `The request to ${endpoint} failed: ${describe(error)}`, {
              cause: error,
            });
      traced?.fail(failure);
      if ((failure as CertboundError).code === "aborted") throw failure;
      outcome = { errorCode: (failure as CertboundError).code };
      budget?.record(endpoint, outcome.errorCode);
      // An attempt cut short by the deadline: the acquisition's timeout, not the attempt's.
      if (budget && budget.remaining() <= 0) throw budget.exceeded(failure);
    }
    const now = clock.now();
    const delayMs = policy.delayBeforeRetry(retry, outcome, now);
    if (budget && delayMs !== undefined && delayMs >= budget.remaining(now)) {
      throw budgetStop(budget, outcome, failure, endpoint, now);
    }
    const pastDeadline =
      options.deadline !== undefined && delayMs !== undefined && now + delayMs > options.deadline;
    if (delayMs === undefined || pastDeadline) {
      if (outcome.response) return outcome.response;
      // After retries, say what was tried and for how long, not only the last attempt's limit.
      throw budget && retry > 1 ? budget.annotate(failure) : failure;
    }
    const acquisition = currentAcquisition();
    if (acquisition) acquisition.retries++;
    if (diagnostics.retry.hasSubscribers) {
      const where = describeUrl(request.url, acquisition?.pii === true);
      const event: RetryDiagnosticsEvent = {
        policy: policy.name,
        retry,
        delayMs,
        reason: outcome.response ? `http_${outcome.response.status}` : (outcome.errorCode ?? "unknown"),
        statusCode: outcome.response?.status,
        url: where.url,
        serverAddress: where.serverAddress,
        serverPort: where.serverPort,
        acquisition,
      };
      diagnostics.retry.publish(event);
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
 * @public
 * @example
 * ```ts
 * endpointOf("http://169.254.169.254/metadata/identity/oauth2/token?resource=x"); // no query
 * ```
 */
export function endpointOf(url: string): string {
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

// Why a retry the policy wants cannot happen within the acquisition's deadline: the server asked
// for a longer wait than is left (`throttled`, carrying its value), or time simply ran out.
function budgetStop(
  budget: AcquisitionBudget,
  outcome: AttemptOutcome,
  failure: unknown,
  endpoint: string,
  now: number,
): CertboundError {
  const response = outcome.response;
  const retryAfterMs = response ? parseRetryAfter(response.headers["retry-after"], now) : undefined;
  const left = budget.remaining(now);
  if (response && retryAfterMs !== undefined && retryAfterMs >= left) {
    return new ServiceError(
      "throttled",
      `${endpoint} answered ${response.status} asking to retry after ${Math.ceil(retryAfterMs / 1000)} s, longer than this acquisition may still wait (${Math.floor(left / 1000)} s). Try again after that time.`,
      { status: response.status, retryAfterMs },
    );
  }
  return budget.exceeded(failure);
}

// Publishes one attempt's start; the returned functions publish its end or error.
function startRequestEvent(
  request: HttpRequest,
  attempt: number,
  policy: string,
  clock: Clock,
): { end(status: number): void; fail(error: unknown): void } {
  const acquisition = currentAcquisition();
  const where = describeUrl(request.url, acquisition?.pii === true);
  const event: HttpRequestEvent = {
    method: request.method,
    url: where.url,
    serverAddress: where.serverAddress,
    serverPort: where.serverPort,
    attempt,
    policy,
    mutualTls: request.clientIdentity !== undefined,
    acquisition,
  };
  const started = clock.now();
  diagnostics.requestStart.publish(event);
  return {
    end(status) {
      event.statusCode = status;
      event.durationMs = clock.now() - started;
      diagnostics.requestEnd.publish(event);
    },
    fail(error) {
      event.durationMs = clock.now() - started;
      event.error = diagnosticsError(error);
      diagnostics.requestError.publish(event);
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
