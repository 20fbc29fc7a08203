// The token manager's diagnostics_channel publishing, kept apart from its logic: every function
// here returns at once when nobody subscribes, so a cache hit pays one `hasSubscribers` read.

import type { Clock } from "../seams/clock";
import type { TokenResult, TokenType } from "../seams/result";
import type { CacheEntry } from "../token-cache/cache-entry-codec";
import type { TokenManagerCall } from "../token-cache/token-manager";
import {
  type AcquireEvent,
  type CacheLookupEvent,
  type CertificateMintEvent,
  currentAcquisition,
  describeUrl,
  diagnostics,
  diagnosticsError,
  type RefreshEvent,
  runInAcquisition,
} from "./diagnostics";

/**
 * Publishes a cache lookup: `entry` is what the store answered (`null` when the lookup was
 * bypassed by `forceRefresh` or claims), judged against `now` as the token manager does.
 *
 * @internal
 * @example
 * ```ts
 * publishCacheLookup(entry, now, "Bearer", EXPIRY_BUFFER_MS);
 * ```
 */
export function publishCacheLookup(
  entry: CacheEntry | undefined | null,
  now: number,
  tokenType: TokenType,
  bufferMs: number,
): void {
  if (!diagnostics.cacheLookup.hasSubscribers) return;
  const reason: CacheLookupEvent["reason"] =
    entry === null
      ? "bypassed"
      : entry === undefined
        ? "absent"
        : !(entry.expiresAt - now > bufferMs)
          ? "expiring"
          : entry.tokenType !== tokenType
            ? "token_type"
            : undefined;
  const acquisition = currentAcquisition();
  const event: CacheLookupEvent = {
    hit: reason === undefined,
    tokenType,
    reason,
    acquisition: acquisition && "scopeCount" in acquisition ? acquisition : undefined,
  };
  diagnostics.cacheLookup.publish(event);
}

/**
 * The traced form of a token manager's `acquireToken`: each call is published on the acquisition
 * channels. The manager calls it only while `acquireStart` has subscribers, so a cache hit with
 * nobody listening pays one property read.
 *
 * @internal
 * @example
 * ```ts
 * const traced = traceAcquisition(acquireUntraced, clock, pii);
 * const acquireToken = (r) => (diagnostics.acquireStart.hasSubscribers ? traced(r) : acquireUntraced(r));
 * ```
 */
export function traceAcquisition<C>(
  untraced: (request: TokenManagerCall<C>) => Promise<TokenResult>,
  clock: Clock,
  pii: boolean,
): (request: TokenManagerCall<C>) => Promise<TokenResult> {
  return (request) => {
    const started = clock.now();
    const event: AcquireEvent = {
      tokenType: request.tokenType ?? "Bearer",
      correlationId: request.correlationId,
      forceRefresh: request.forceRefresh === true,
      claims: request.claims !== undefined,
      // A scope alias stands for one scope (see TokenManagerCall.scopeAlias).
      scopeCount:
        (request as TokenManagerCall<unknown>).scopeAlias !== undefined
          ? 1
          : Array.isArray(request.scopes)
            ? request.scopes.length
            : 0,
      clientId: pii ? request.clientId : undefined,
      retries: 0,
      pii,
    };
    diagnostics.acquireStart.publish(event);
    return runInAcquisition(event, () => untraced(request)).then(
      (result) => {
        const now = clock.now();
        event.correlationId = result.metadata.correlationId;
        event.tokenSource = result.metadata.tokenSource;
        event.durationMs = now - started;
        event.expiresInMs = result.expiresOn.getTime() - now;
        if (result.metadata.tokenSource === "identity_provider" && result.metadata.tokenEndpoint) {
          event.endpointOrigin = describeUrl(result.metadata.tokenEndpoint, false).origin;
        }
        if (pii) event.tenantId = result.tenantId;
        diagnostics.acquireEnd.publish(event);
        return result;
      },
      (error: unknown) => {
        event.durationMs = clock.now() - started;
        event.error = diagnosticsError(error);
        const correlationId = (error as { correlationId?: unknown } | undefined)?.correlationId;
        if (typeof correlationId === "string") event.correlationId = correlationId;
        diagnostics.acquireError.publish(event);
        throw error;
      },
    );
  };
}

/**
 * Runs a background refresh, published on the refresh channels while they have subscribers.
 *
 * @internal
 * @example
 * ```ts
 * traceRefresh("Bearer", correlationId, false, clock, () => fetchAndStore(...)).catch(backOff);
 * ```
 */
export function traceRefresh(
  tokenType: TokenType,
  correlationId: string,
  pii: boolean,
  clock: Clock,
  work: () => Promise<TokenResult>,
): Promise<TokenResult> {
  if (!diagnostics.refreshStart.hasSubscribers) return work();
  const started = clock.now();
  const event: RefreshEvent = { tokenType, correlationId, retries: 0, pii };
  diagnostics.refreshStart.publish(event);
  return runInAcquisition(event, work).then(
    (result) => {
      event.durationMs = clock.now() - started;
      if (result.metadata.tokenEndpoint) {
        event.endpointOrigin = describeUrl(result.metadata.tokenEndpoint, false).origin;
      }
      diagnostics.refreshEnd.publish(event);
      return result;
    },
    (error: unknown) => {
      event.durationMs = clock.now() - started;
      event.error = diagnosticsError(error);
      diagnostics.refreshError.publish(event);
      throw error;
    },
  );
}

/**
 * Runs the minting of a binding certificate (a managed identity's IMDS v2 `issuecredential`),
 * published on the mint channels while they have subscribers.
 *
 * @internal
 * @example
 * ```ts
 * const minted = await traceCertificateMint(correlationId, clock, () => mint(metadata, call));
 * ```
 */
export function traceCertificateMint<
  T extends { readonly binding: { readonly x5tS256: string; readonly notAfter: Date } },
>(correlationId: string | undefined, clock: Clock, work: () => Promise<T>): Promise<T> {
  if (!diagnostics.mintStart.hasSubscribers) return work();
  const started = clock.now();
  const event: CertificateMintEvent = { correlationId, acquisition: currentAcquisition() };
  diagnostics.mintStart.publish(event);
  return work().then(
    (minted) => {
      event.durationMs = clock.now() - started;
      event.x5tS256 = minted.binding.x5tS256;
      event.notAfter = minted.binding.notAfter.getTime();
      diagnostics.mintEnd.publish(event);
      return minted;
    },
    (error: unknown) => {
      event.durationMs = clock.now() - started;
      event.error = diagnosticsError(error);
      diagnostics.mintError.publish(event);
      throw error;
    },
  );
}
