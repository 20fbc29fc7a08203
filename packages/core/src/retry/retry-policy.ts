import type { CertboundErrorCode } from "../protocol/errors";
import type { HttpResponse } from "../seams/transport";
import { parseRetryAfter } from "./retry-after";

/**
 * What one attempt ended with: a response (any status) or a transport error code.
 *
 * @public
 */
export type AttemptOutcome =
  | { readonly response: HttpResponse; readonly errorCode?: undefined }
  | { readonly response?: undefined; readonly errorCode: CertboundErrorCode };

/**
 * Decides whether to retry after an attempt and how long to wait first.
 * `retry` is the number of the retry being considered (1 for the first retry).
 * Returns the delay in milliseconds, or `undefined` to stop.
 *
 * @public
 * @example
 * ```ts
 * const twice: RetryPolicy = { name: "twice", delayBeforeRetry: (retry) => (retry <= 2 ? 500 : undefined) };
 * ```
 */
export interface RetryPolicy {
  readonly name: string;
  delayBeforeRetry(retry: number, outcome: AttemptOutcome, now: number): number | undefined;
}

// A reset or refused connection is as transient as a timeout; a failed TLS handshake is not
// retried here (the managed-identity flow re-mints its certificate for it instead).
const isTransient = (outcome: AttemptOutcome) =>
  outcome.errorCode === "timeout" || outcome.errorCode === "network_error";

/**
 * IMDS (v1 token, v2 getplatformmetadata and issuecredential): 404, 408, 410, 429, 5xx and
 * timeouts; 3 retries at 1 s, 2 s, 4 s; a 410 (IMDS restarting) gets 7 retries 10 s apart.
 *
 * @public
 * @example
 * ```ts
 * await sendWithRetry(transport, request, { policy: imdsRetryPolicy });
 * ```
 */
export const imdsRetryPolicy: RetryPolicy = {
  name: "imds",
  delayBeforeRetry(retry, outcome) {
    const status = outcome.response?.status;
    if (status === 410) return retry <= 7 ? 10_000 : undefined;
    const retryable =
      isTransient(outcome) ||
      status === 404 ||
      status === 408 ||
      status === 429 ||
      (status !== undefined && status >= 500);
    return retryable && retry <= 3 ? 1000 * 2 ** (retry - 1) : undefined;
  },
};

/**
 * App Service, Service Fabric, Azure Arc, Cloud Shell and Machine Learning: 404, 408, 429, 500,
 * 503, 504 and timeouts; 3 retries, each after max(1 s, Retry-After).
 *
 * @public
 * @example
 * ```ts
 * await sendWithRetry(transport, request, { policy: managedIdentityRetryPolicy });
 * ```
 */
export const managedIdentityRetryPolicy: RetryPolicy = {
  name: "managed_identity",
  delayBeforeRetry(retry, outcome, now) {
    const status = outcome.response?.status;
    const retryable = isTransient(outcome) || [404, 408, 429, 500, 503, 504].includes(status ?? 0);
    if (!retryable || retry > 3) return undefined;
    const retryAfter = parseRetryAfter(outcome.response?.headers["retry-after"], now) ?? 0;
    return Math.max(1000, retryAfter);
  },
};

/**
 * Entra's `/oauth2/v2.0/token`: one retry after 1 s on 5xx or a timeout, and none at all when the
 * server sent `Retry-After` (the throttle guard then blocks identical requests instead).
 *
 * @public
 * @example
 * ```ts
 * await sendWithRetry(transport, request, { policy: tokenEndpointRetryPolicy, throttle });
 * ```
 */
export const tokenEndpointRetryPolicy: RetryPolicy = {
  name: "token_endpoint",
  delayBeforeRetry(retry, outcome) {
    if (retry > 1) return undefined;
    if (outcome.response) {
      if (outcome.response.headers["retry-after"] !== undefined) return undefined;
      return outcome.response.status >= 500 ? 1000 : undefined;
    }
    return isTransient(outcome) ? 1000 : undefined;
  },
};

/**
 * Never retries.
 *
 * @public
 * @example
 * ```ts
 * await sendWithRetry(transport, request, { policy: noRetryPolicy });
 * ```
 */
export const noRetryPolicy: RetryPolicy = { name: "none", delayBeforeRetry: () => undefined };
