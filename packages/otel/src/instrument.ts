import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type {
  AcquireEvent,
  CacheLookupEvent,
  CertificateMintEvent,
  DiagnosticsError,
  HttpRequestEvent,
  RefreshEvent,
  ResourceCallEvent,
  RetryDiagnosticsEvent,
} from "@certbound/core";
import { DIAGNOSTICS_CHANNELS } from "@certbound/core";
import {
  type Attributes,
  type Context,
  context,
  type MeterProvider,
  metrics,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from "./package-name";

/**
 * Options of {@link instrumentCertbound}.
 *
 * @public
 * @example
 * ```ts
 * const options: CertboundInstrumentationOptions = { tracerProvider: provider, meterProvider };
 * ```
 */
export interface CertboundInstrumentationOptions {
  /** @default the global tracer provider (`trace.getTracerProvider()`), resolved on each span */
  readonly tracerProvider?: TracerProvider | undefined;
  /** @default the global meter provider (`metrics.getMeterProvider()`) */
  readonly meterProvider?: MeterProvider | undefined;
}

/**
 * A running instrumentation; `disable()` (or `using`) unsubscribes from every channel.
 *
 * @public
 * @example
 * ```ts
 * using instrumentation = instrumentCertbound();
 * ```
 */
export interface CertboundInstrumentation {
  disable(): void;
  [Symbol.dispose](): void;
}

/**
 * Names of the spans and metrics this package produces (see the README for what each means).
 *
 * @public
 * @example
 * ```ts
 * const durations = exported.find((m) => m.descriptor.name === TELEMETRY_NAMES.acquireDuration);
 * ```
 */
export const TELEMETRY_NAMES = {
  acquireSpan: "certbound.acquire_token",
  refreshSpan: "certbound.refresh_token",
  mintSpan: "certbound.mint_binding_certificate",
  acquireDuration: "certbound.token.acquire.duration",
  cacheHits: "certbound.token.cache.hits",
  cacheMisses: "certbound.token.cache.misses",
  retries: "certbound.token.retries",
  expiresIn: "certbound.token.expires_in",
  refreshFailures: "certbound.token.refresh.failures",
} as const;

type Handler = (message: unknown, name: string | symbol) => void;

/**
 * Subscribes to certbound's diagnostics channels and turns them into OpenTelemetry spans and
 * metrics: an INTERNAL span per token acquisition (a child of the caller's active span) with a
 * CLIENT child span per request to the identity provider, spans for background refreshes,
 * binding-certificate mints and resource calls, and the metrics in {@link TELEMETRY_NAMES}.
 * Call it once, at start-up; a second call produces everything twice.
 *
 * @public
 * @example
 * ```ts
 * const instrumentation = instrumentCertbound(); // global tracer and meter providers
 * // ... later, on shutdown:
 * instrumentation.disable();
 * ```
 */
export function instrumentCertbound(options: CertboundInstrumentationOptions = {}): CertboundInstrumentation {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(
    INSTRUMENTATION_NAME,
    INSTRUMENTATION_VERSION,
  );
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(
    INSTRUMENTATION_NAME,
    INSTRUMENTATION_VERSION,
  );
  const acquireDuration = meter.createHistogram(TELEMETRY_NAMES.acquireDuration, {
    description: "Duration of token acquisitions (cache hits included), by token source and type.",
    unit: "s",
  });
  const cacheHits = meter.createCounter(TELEMETRY_NAMES.cacheHits, {
    description: "Token cache lookups that found a servable token.",
    unit: "{lookup}",
  });
  const cacheMisses = meter.createCounter(TELEMETRY_NAMES.cacheMisses, {
    description: "Token cache lookups that sent the call to the identity provider, by reason.",
    unit: "{lookup}",
  });
  const retries = meter.createCounter(TELEMETRY_NAMES.retries, {
    description: "Retries of identity-provider and IMDS requests, by reason.",
    unit: "{retry}",
  });
  const expiresIn = meter.createHistogram(TELEMETRY_NAMES.expiresIn, {
    description: "Seconds until the served token expires, at the time it is served.",
    unit: "s",
  });
  const refreshFailures = meter.createCounter(TELEMETRY_NAMES.refreshFailures, {
    description: "Background refreshes that failed (the cached token is still served).",
    unit: "{refresh}",
  });

  // The span of each operation in flight, keyed by its payload object (the same object is
  // published on start and end), so nothing is kept once the payload is unreachable.
  const spans = new WeakMap<object, Span>();

  // Subscribers run synchronously in the publisher's async context: `context.active()` is the
  // caller's context, so an acquisition span is a child of whatever span the caller has open.
  const childOf = (parent: object | undefined): Context => {
    const span = parent === undefined ? undefined : spans.get(parent);
    return span === undefined ? context.active() : trace.setSpan(context.active(), span);
  };
  const end = (payload: object, attributes: Attributes, error?: DiagnosticsError): void => {
    const span = spans.get(payload);
    if (span === undefined) return;
    spans.delete(payload);
    span.setAttributes(attributes);
    if (error !== undefined) {
      span.setAttribute("error.type", error.code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
    }
    span.end();
  };

  const handlers: Array<[string, Handler]> = [];
  const on = <T>(name: string, handle: (event: T) => void): void => {
    // A telemetry bug must never break a token acquisition: errors thrown here would surface as
    // uncaught exceptions in the application.
    const handler: Handler = (message) => {
      try {
        handle(message as T);
      } catch {
        // ignored on purpose, see above
      }
    };
    handlers.push([name, handler]);
    subscribe(name, handler);
  };

  on<AcquireEvent>(DIAGNOSTICS_CHANNELS.acquireStart, (event) => {
    const span = tracer.startSpan(
      TELEMETRY_NAMES.acquireSpan,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          "certbound.token.type": event.tokenType,
          "certbound.force_refresh": event.forceRefresh,
          "certbound.claims_challenge": event.claims,
          ...(event.clientId !== undefined ? { "certbound.client_id": event.clientId } : {}),
        },
      },
      context.active(),
    );
    spans.set(event, span);
  });
  const acquireDone = (event: AcquireEvent): void => {
    const attributes: Attributes = {
      "certbound.retry_count": event.retries,
    };
    if (event.correlationId !== undefined) attributes["certbound.correlation_id"] = event.correlationId;
    if (event.tokenSource !== undefined) attributes["certbound.token.source"] = event.tokenSource;
    if (event.tenantId !== undefined) attributes["certbound.tenant_id"] = event.tenantId;
    if (event.endpointOrigin !== undefined) Object.assign(attributes, serverOf(event.endpointOrigin));
    if (event.expiresInMs !== undefined) attributes["certbound.token.expires_in"] = event.expiresInMs / 1000;
    end(event, attributes, event.error);
    const metricAttributes: Attributes = {
      "certbound.token.source": event.tokenSource ?? "identity_provider",
      "certbound.token.type": event.tokenType,
    };
    if (event.error !== undefined) metricAttributes["error.type"] = event.error.code;
    if (event.durationMs !== undefined) acquireDuration.record(event.durationMs / 1000, metricAttributes);
    if (event.error === undefined && event.expiresInMs !== undefined) {
      expiresIn.record(Math.max(0, event.expiresInMs / 1000), metricAttributes);
    }
  };
  on<AcquireEvent>(DIAGNOSTICS_CHANNELS.acquireEnd, acquireDone);
  on<AcquireEvent>(DIAGNOSTICS_CHANNELS.acquireError, acquireDone);

  on<CacheLookupEvent>(DIAGNOSTICS_CHANNELS.cacheLookup, (event) => {
    const attributes = { "certbound.token.type": event.tokenType };
    if (event.hit) cacheHits.add(1, attributes);
    else cacheMisses.add(1, { ...attributes, "certbound.cache.miss_reason": event.reason ?? "absent" });
    const span = event.acquisition === undefined ? undefined : spans.get(event.acquisition);
    span?.setAttribute("certbound.cache.hit", event.hit);
  });

  on<RefreshEvent>(DIAGNOSTICS_CHANNELS.refreshStart, (event) => {
    spans.set(
      event,
      tracer.startSpan(
        TELEMETRY_NAMES.refreshSpan,
        {
          kind: SpanKind.INTERNAL,
          attributes: {
            "certbound.token.type": event.tokenType,
            "certbound.correlation_id": event.correlationId,
          },
        },
        context.active(),
      ),
    );
  });
  const refreshDone = (event: RefreshEvent): void => {
    const attributes: Attributes = { "certbound.retry_count": event.retries };
    if (event.endpointOrigin !== undefined) Object.assign(attributes, serverOf(event.endpointOrigin));
    end(event, attributes, event.error);
    if (event.error !== undefined) {
      refreshFailures.add(1, { "certbound.token.type": event.tokenType, "error.type": event.error.code });
    }
  };
  on<RefreshEvent>(DIAGNOSTICS_CHANNELS.refreshEnd, refreshDone);
  on<RefreshEvent>(DIAGNOSTICS_CHANNELS.refreshError, refreshDone);

  on<HttpRequestEvent>(DIAGNOSTICS_CHANNELS.requestStart, (event) => {
    const attributes: Attributes = {
      "http.request.method": event.method,
      "url.full": event.url,
      "server.address": event.serverAddress,
      "server.port": event.serverPort,
      "certbound.retry_policy": event.policy,
      "certbound.mutual_tls": event.mutualTls,
    };
    if (event.attempt > 1) attributes["http.request.resend_count"] = event.attempt - 1;
    spans.set(
      event,
      tracer.startSpan(event.method, { kind: SpanKind.CLIENT, attributes }, childOf(event.acquisition)),
    );
  });
  const httpDone = (event: HttpRequestEvent | ResourceCallEvent): void => {
    const attributes: Attributes = {};
    if (event.statusCode !== undefined) attributes["http.response.status_code"] = event.statusCode;
    // HTTP semantic conventions: a 4xx/5xx answer of a client request is an error, typed by its status.
    const error =
      event.error ??
      (event.statusCode !== undefined && event.statusCode >= 400
        ? { code: String(event.statusCode), name: "HttpError" }
        : undefined);
    end(event, attributes, error);
  };
  on<HttpRequestEvent>(DIAGNOSTICS_CHANNELS.requestEnd, httpDone);
  on<HttpRequestEvent>(DIAGNOSTICS_CHANNELS.requestError, httpDone);

  on<RetryDiagnosticsEvent>(DIAGNOSTICS_CHANNELS.retry, (event) => {
    retries.add(1, { "certbound.retry.reason": event.reason, "server.address": event.serverAddress });
    const span = event.acquisition === undefined ? undefined : spans.get(event.acquisition);
    span?.addEvent("certbound.retry", {
      "certbound.retry.reason": event.reason,
      "certbound.retry.delay_ms": event.delayMs,
      "certbound.retry.number": event.retry,
      "server.address": event.serverAddress,
    });
  });

  on<CertificateMintEvent>(DIAGNOSTICS_CHANNELS.mintStart, (event) => {
    spans.set(
      event,
      tracer.startSpan(TELEMETRY_NAMES.mintSpan, { kind: SpanKind.INTERNAL }, childOf(event.acquisition)),
    );
  });
  const mintDone = (event: CertificateMintEvent): void => {
    const attributes: Attributes = {};
    if (event.x5tS256 !== undefined) attributes["certbound.certificate.x5t_s256"] = event.x5tS256;
    if (event.notAfter !== undefined) {
      attributes["certbound.certificate.not_after"] = new Date(event.notAfter).toISOString();
    }
    end(event, attributes, event.error);
  };
  on<CertificateMintEvent>(DIAGNOSTICS_CHANNELS.mintEnd, mintDone);
  on<CertificateMintEvent>(DIAGNOSTICS_CHANNELS.mintError, mintDone);

  on<ResourceCallEvent>(DIAGNOSTICS_CHANNELS.resourceStart, (event) => {
    spans.set(
      event,
      tracer.startSpan(
        event.method,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            "http.request.method": event.method,
            "url.full": event.url,
            "server.address": event.serverAddress,
            "server.port": event.serverPort,
            "certbound.token.type": event.tokenType,
            "certbound.mutual_tls": event.mutualTls,
          },
        },
        context.active(),
      ),
    );
  });
  on<ResourceCallEvent>(DIAGNOSTICS_CHANNELS.resourceEnd, httpDone);
  on<ResourceCallEvent>(DIAGNOSTICS_CHANNELS.resourceError, httpDone);

  let enabled = true;
  const disable = (): void => {
    if (!enabled) return;
    enabled = false;
    for (const [name, handler] of handlers) unsubscribe(name, handler);
  };
  return { disable, [Symbol.dispose]: disable };
}

function serverOf(origin: string): Attributes {
  try {
    const u = new URL(origin);
    return {
      "server.address": u.hostname.replace(/^\[(.*)\]$/, "$1"),
      "server.port": u.port === "" ? (u.protocol === "https:" ? 443 : 80) : Number(u.port),
    };
  } catch {
    return {};
  }
}
