import { AsyncLocalStorage } from "node:async_hooks";
import { channel } from "node:diagnostics_channel";
import type { TokenSource, TokenType } from "../seams/result";

/**
 * Names of the `node:diagnostics_channel` channels certbound publishes on. An operation with a
 * duration has three channels, `…:start`, `…:end` and `…:error`; the same payload object is
 * published on `start` and then on `end` or `error`, filled in along the way, so a subscriber can
 * keep its own state for an operation in a `WeakMap` keyed by the payload.
 *
 * Payloads never hold a token, key, client assertion, secret header or query string, and name the
 * tenant or client only when the token manager's logger has `piiLoggingEnabled`. Nothing is built
 * while a channel has no subscriber: an operation is published on `end`/`error` only when its
 * `start` had a subscriber, so subscribe to `start` too.
 *
 * @public
 * @example
 * ```ts
 * import { subscribe } from "node:diagnostics_channel";
 * subscribe(DIAGNOSTICS_CHANNELS.acquireEnd, (message) => {
 *   const event = message as AcquireEvent;
 *   console.log(event.tokenSource, event.tokenType, event.durationMs);
 * });
 * ```
 */
export const DIAGNOSTICS_CHANNELS = {
  /** Every `acquireToken` call on a token manager (a cache hit too): {@link AcquireEvent}. */
  acquireStart: "certbound:token:acquire:start",
  acquireEnd: "certbound:token:acquire:end",
  acquireError: "certbound:token:acquire:error",
  /** Each cache lookup of a token manager: {@link CacheLookupEvent}. */
  cacheLookup: "certbound:token:cache",
  /** A background refresh of a cached token: {@link RefreshEvent}. */
  refreshStart: "certbound:token:refresh:start",
  refreshEnd: "certbound:token:refresh:end",
  refreshError: "certbound:token:refresh:error",
  /** Each attempt of a token-endpoint or IMDS request (`sendWithRetry`): {@link HttpRequestEvent}. */
  requestStart: "certbound:http:request:start",
  requestEnd: "certbound:http:request:end",
  requestError: "certbound:http:request:error",
  /** Before each retry's wait: {@link RetryDiagnosticsEvent}. */
  retry: "certbound:http:retry",
  /** A managed identity's binding certificate being minted (IMDS v2): {@link CertificateMintEvent}. */
  mintStart: "certbound:msi:certificate:mint:start",
  mintEnd: "certbound:msi:certificate:mint:end",
  mintError: "certbound:msi:certificate:mint:error",
  /** A resource request sent by `ResourceCaller` (or a fetch helper): {@link ResourceCallEvent}. */
  resourceStart: "certbound:resource:call:start",
  resourceEnd: "certbound:resource:call:end",
  resourceError: "certbound:resource:call:error",
} as const;

/**
 * Why an operation failed: the {@link CertboundError} code (or the error's name for anything else).
 *
 * @public
 * @example
 * ```ts
 * if (event.error?.code === "timeout") alertOps();
 * ```
 */
export interface DiagnosticsError {
  /** `CertboundError.code`, or `"unknown"`. */
  readonly code: string;
  /** The error's class name, e.g. `ServiceError`. */
  readonly name: string;
  /** The HTTP status, for a service error. */
  readonly status?: number | undefined;
}

/**
 * One `acquireToken` call on a token manager, from its start to its end or error.
 *
 * @public
 * @example
 * ```ts
 * subscribe(DIAGNOSTICS_CHANNELS.acquireEnd, (m) => histogram.record((m as AcquireEvent).durationMs ?? 0));
 * ```
 */
export interface AcquireEvent {
  readonly tokenType: TokenType;
  /** The caller's correlation id, then (at the end) the one the result carries. */
  correlationId: string | undefined;
  readonly forceRefresh: boolean;
  readonly claims: boolean;
  /** Number of scopes asked for (the scopes themselves name resources: not published). */
  readonly scopeCount: number;
  /** Client id, only with PII logging on. */
  readonly clientId?: string | undefined;
  /** Tenant id of the token (at the end), only with PII logging on. */
  tenantId?: string | undefined;
  /** At the end: `"cache"` or `"identity_provider"`. */
  tokenSource?: TokenSource | undefined;
  /** At the end, for a network acquisition: `scheme://host[:port]` of the token endpoint. */
  endpointOrigin?: string | undefined;
  /** At the end: milliseconds spent in this call (on the manager's clock). */
  durationMs?: number | undefined;
  /** At the end: milliseconds from the end of this call until the token served expires. */
  expiresInMs?: number | undefined;
  /** Retries of network requests made for this call. */
  retries: number;
  /** On `error`. */
  error?: DiagnosticsError | undefined;
  /** Whether identifiers may be published for this call (the logger's `piiLoggingEnabled`). */
  readonly pii: boolean;
}

/**
 * A token manager's cache lookup.
 *
 * @public
 * @example
 * ```ts
 * subscribe(DIAGNOSTICS_CHANNELS.cacheLookup, (m) => ((m as CacheLookupEvent).hit ? hits++ : misses++));
 * ```
 */
export interface CacheLookupEvent {
  readonly hit: boolean;
  readonly tokenType: TokenType;
  /**
   * For a miss: `absent` (nothing stored), `expiring` (within the expiry buffer), `token_type`
   * (stored for another type), `bypassed` (`forceRefresh` or a claims challenge).
   */
  readonly reason?: "absent" | "expiring" | "token_type" | "bypassed" | undefined;
  /** The acquisition this lookup belongs to, when its channels have subscribers. */
  readonly acquisition?: AcquireEvent | undefined;
}

/**
 * A background refresh of a cached token (started by a cache hit past its `refreshOn`).
 *
 * @public
 * @example
 * ```ts
 * subscribe(DIAGNOSTICS_CHANNELS.refreshError, (m) => console.warn("refresh failed", (m as RefreshEvent).error?.code));
 * ```
 */
export interface RefreshEvent {
  readonly tokenType: TokenType;
  readonly correlationId: string;
  durationMs?: number | undefined;
  endpointOrigin?: string | undefined;
  retries: number;
  error?: DiagnosticsError | undefined;
  readonly pii: boolean;
}

/**
 * One attempt of a request to a token endpoint or IMDS, sent through `sendWithRetry`.
 *
 * @public
 * @example
 * ```ts
 * subscribe(DIAGNOSTICS_CHANNELS.requestEnd, (m) => console.log((m as HttpRequestEvent).statusCode));
 * ```
 */
export interface HttpRequestEvent {
  readonly method: string;
  /**
   * `scheme://host[:port]/path`, no query string; without PII logging, path segments that look like
   * a tenant (a GUID or a domain name) read `<pii>`.
   */
  readonly url: string;
  readonly serverAddress: string;
  readonly serverPort: number;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** The retry policy's name. */
  readonly policy: string;
  /** Whether the request presents a client certificate (mutual TLS). */
  readonly mutualTls: boolean;
  /** The acquisition or refresh this request is made for, when its channels have subscribers. */
  readonly acquisition?: AcquireEvent | RefreshEvent | undefined;
  statusCode?: number | undefined;
  durationMs?: number | undefined;
  error?: DiagnosticsError | undefined;
}

/**
 * A retry about to wait, published before the wait starts.
 *
 * @public
 * @example
 * ```ts
 * subscribe(DIAGNOSTICS_CHANNELS.retry, (m) => retries.add(1, { reason: (m as RetryDiagnosticsEvent).reason }));
 * ```
 */
export interface RetryDiagnosticsEvent {
  readonly policy: string;
  /** 1 for the first retry. */
  readonly retry: number;
  readonly delayMs: number;
  /** `http_<status>` for an answer, else the error code (`network_error`, `timeout`, …). */
  readonly reason: string;
  readonly statusCode?: number | undefined;
  readonly url: string;
  readonly serverAddress: string;
  readonly serverPort: number;
  readonly acquisition?: AcquireEvent | RefreshEvent | undefined;
}

/**
 * A managed identity minting its binding certificate (IMDS v2: key, CSR, `issuecredential`).
 *
 * @public
 * @example
 * ```ts
 * subscribe(DIAGNOSTICS_CHANNELS.mintEnd, (m) => console.log("cert until", (m as CertificateMintEvent).notAfter));
 * ```
 */
export interface CertificateMintEvent {
  readonly correlationId: string | undefined;
  readonly acquisition?: AcquireEvent | RefreshEvent | undefined;
  /** At the end: the certificate's thumbprint (public: it is in every token bound to it). */
  x5tS256?: string | undefined;
  /** At the end: epoch milliseconds when the certificate expires. */
  notAfter?: number | undefined;
  durationMs?: number | undefined;
  error?: DiagnosticsError | undefined;
}

/**
 * One resource request sent with a token.
 *
 * @public
 * @example
 * ```ts
 * subscribe(DIAGNOSTICS_CHANNELS.resourceEnd, (m) => console.log((m as ResourceCallEvent).statusCode));
 * ```
 */
export interface ResourceCallEvent {
  readonly method: string;
  /** `scheme://host[:port]/path`, no query string. */
  readonly url: string;
  readonly serverAddress: string;
  readonly serverPort: number;
  readonly tokenType: TokenType;
  readonly mutualTls: boolean;
  statusCode?: number | undefined;
  durationMs?: number | undefined;
  error?: DiagnosticsError | undefined;
}

/**
 * The channels as objects, created once (Node keeps one object per name). Check `hasSubscribers`
 * before building a payload.
 *
 * @internal
 * @example
 * ```ts
 * if (diagnostics.retry.hasSubscribers) diagnostics.retry.publish(event);
 * ```
 */
export const diagnostics = {
  acquireStart: channel(DIAGNOSTICS_CHANNELS.acquireStart),
  acquireEnd: channel(DIAGNOSTICS_CHANNELS.acquireEnd),
  acquireError: channel(DIAGNOSTICS_CHANNELS.acquireError),
  cacheLookup: channel(DIAGNOSTICS_CHANNELS.cacheLookup),
  refreshStart: channel(DIAGNOSTICS_CHANNELS.refreshStart),
  refreshEnd: channel(DIAGNOSTICS_CHANNELS.refreshEnd),
  refreshError: channel(DIAGNOSTICS_CHANNELS.refreshError),
  requestStart: channel(DIAGNOSTICS_CHANNELS.requestStart),
  requestEnd: channel(DIAGNOSTICS_CHANNELS.requestEnd),
  requestError: channel(DIAGNOSTICS_CHANNELS.requestError),
  retry: channel(DIAGNOSTICS_CHANNELS.retry),
  mintStart: channel(DIAGNOSTICS_CHANNELS.mintStart),
  mintEnd: channel(DIAGNOSTICS_CHANNELS.mintEnd),
  mintError: channel(DIAGNOSTICS_CHANNELS.mintError),
  resourceStart: channel(DIAGNOSTICS_CHANNELS.resourceStart),
  resourceEnd: channel(DIAGNOSTICS_CHANNELS.resourceEnd),
  resourceError: channel(DIAGNOSTICS_CHANNELS.resourceError),
};

// The acquisition (or refresh) a network request, retry or mint belongs to. Entered only while
// the acquisition channels have subscribers, so nobody listening means no async-context cost.
const scope = new AsyncLocalStorage<AcquireEvent | RefreshEvent>();

/**
 * Runs `work` as part of `event`, so requests, retries and mints inside it name it.
 *
 * @internal
 * @example
 * ```ts
 * const result = await runInAcquisition(event, () => fetchToken());
 * ```
 */
export function runInAcquisition<T>(event: AcquireEvent | RefreshEvent, work: () => T): T {
  return scope.run(event, work);
}

/**
 * The acquisition or refresh the current code runs for, when one is being traced.
 *
 * @internal
 * @example
 * ```ts
 * const acquisition = currentAcquisition();
 * if (acquisition) acquisition.retries++;
 * ```
 */
export function currentAcquisition(): AcquireEvent | RefreshEvent | undefined {
  return scope.getStore();
}

/**
 * The error part of a payload: code, class name and status, never the message (a server's text).
 *
 * @internal
 * @example
 * ```ts
 * event.error = diagnosticsError(error);
 * ```
 */
export function diagnosticsError(error: unknown): DiagnosticsError {
  const e = error as { code?: unknown; name?: unknown; status?: unknown } | undefined;
  return {
    code: typeof e?.code === "string" ? e.code : "unknown",
    name: typeof e?.name === "string" ? e.name : typeof error,
    status: typeof e?.status === "number" ? e.status : undefined,
  };
}

// A GUID, or a domain name whose last label starts with a letter (`contoso.onmicrosoft.com`, not `v2.0`).
const TENANT_LIKE =
  /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z][a-z0-9-]*)$/i;

/**
 * The parts of a URL a payload may carry: `url` without query or fragment (and, unless `pii`,
 * tenant-like path segments replaced), host and port.
 *
 * @internal
 * @example
 * ```ts
 * describeUrl("https://login.example/contoso.onmicrosoft.com/oauth2/v2.0/token?x=1", false);
 * // { url: "https://login.example/<pii>/oauth2/v2.0/token", serverAddress: "login.example", serverPort: 443 }
 * ```
 */
export function describeUrl(
  raw: string,
  pii: boolean,
): { url: string; serverAddress: string; serverPort: number; origin: string } {
  try {
    const u = new URL(raw);
    const path = pii
      ? u.pathname
      : u.pathname
          .split("/")
          .map((segment) => (TENANT_LIKE.test(decodeURIComponent(segment)) ? "<pii>" : segment))
          .join("/");
    const port = u.port === "" ? (u.protocol === "https:" ? 443 : 80) : Number(u.port);
    return {
      url: `${u.protocol}//${u.host}${path}`,
      serverAddress: u.hostname.replace(/^\[(.*)\]$/, "$1"),
      serverPort: port,
      origin: u.origin,
    };
  } catch {
    return { url: "<invalid url>", serverAddress: "", serverPort: 0, origin: "" };
  }
}
