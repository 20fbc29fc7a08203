// @certbound/otel end to end: real token flows against the emulator (confidential client and
// managed identity, PoP and Bearer, over real TLS on 127.0.0.1), recorded by the OpenTelemetry SDK's
// in-memory span exporter and a manual metric reader. Retry waits run on a test clock (no sleeping).

import { randomUUID } from "node:crypto";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { DIAGNOSTICS_CHANNELS, type HttpTransport, type Logger, ResourceCaller } from "@certbound/core";
import { createCertificateAuthority, createTokenManager, diagnostics } from "@certbound/core/credential-kit";
import { createConfidentialClient } from "@certbound/credential-cert";
import { createInMemoryKeyProvider, createManagedIdentityClient } from "@certbound/credential-msi";
import { type Emulator, startEmulator } from "@certbound/emulator";
import { createUndiciTransport } from "@certbound/http-undici";
import { createTestClock, type TestClock } from "@certbound/testing";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SecretScanner } from "../../../reliability/test/support/secrets";
import { type CertboundInstrumentation, instrumentCertbound, TELEMETRY_NAMES } from "../src/index";

/** Collects on demand only: no export timer. */
class ManualReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const ca = createCertificateAuthority({ commonName: "otel test apps CA" });
const contextManager = new AsyncLocalStorageContextManager();
let emu: Emulator;
let clock: TestClock;
let transport: HttpTransport;
let exporter: InMemorySpanExporter;
let tracerProvider: BasicTracerProvider;
let reader: ManualReader;
let meterProvider: MeterProvider;
let instrumentation: CertboundInstrumentation;

beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable());
  clock = createTestClock({ now: Date.now() });
  emu = await startEmulator({ now: () => clock.now() });
  transport = createUndiciTransport();
});
afterAll(async () => {
  context.disable();
  await transport?.close?.();
  await emu?.close();
});
beforeEach(() => {
  emu.clearFaults();
  emu.resetStats();
  clock.sleeps.length = 0;
  exporter = new InMemorySpanExporter();
  tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  reader = new ManualReader({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  meterProvider = new MeterProvider({ readers: [reader] });
  instrumentation = instrumentCertbound({ tracerProvider, meterProvider });
});
afterEach(async () => {
  instrumentation.disable();
  await meterProvider.shutdown();
  await tracerProvider.shutdown();
});

const scope = () => `${emu.resourceUrl}/.default`;
const caller = () => tracerProvider.getTracer("test");

function confidentialClient(logger?: Logger, via: HttpTransport = transport) {
  const cert = ca.issue({ commonName: "otel-app", keyType: "rsa" });
  const clientId = randomUUID();
  emu.registerConfidentialClient({ clientId, certificatePem: cert.certificatePem });
  const client = createConfidentialClient({
    clientId,
    authority: `${emu.authorityHost}/${emu.tenantId}`,
    authorityHost: emu.authorityHost,
    mtlsAuthorityHost: emu.mtlsAuthorityHost,
    ca: emu.caCertificatePem,
    certificate: { certificatePem: cert.certificatePem, privateKey: cert.privateKey },
    transport: via,
    clock,
    env: {},
    logger,
  });
  return { client, clientId, cert };
}

function managedIdentity() {
  return createManagedIdentityClient({
    transport,
    env: emu.managedIdentityEnvironment("imds"),
    ca: emu.caCertificatePem,
    mtlsAuthorityHost: emu.mtlsAuthorityHost,
    clock,
    keyProvider: createInMemoryKeyProvider(),
    fileExists: () => false,
  });
}

const spans = () => exporter.getFinishedSpans();
const named = (name: string) => spans().filter((s) => s.name === name);
const childrenOf = (parent: ReadableSpan) =>
  spans().filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);

async function metric(name: string): Promise<Array<DataPoint<number | Histogram>>> {
  const { resourceMetrics } = await reader.collect();
  return pointsOf(resourceMetrics, name);
}
function pointsOf(resourceMetrics: ResourceMetrics, name: string): Array<DataPoint<number | Histogram>> {
  const found = resourceMetrics.scopeMetrics
    .flatMap((s) => s.metrics)
    .find((m) => m.descriptor.name === name);
  return (found?.dataPoints ?? []) as Array<DataPoint<number | Histogram>>;
}
const sum = (points: Array<DataPoint<number | Histogram>>) =>
  points.reduce((total, p) => total + (typeof p.value === "number" ? p.value : p.value.count), 0);

describe("confidential client", () => {
  it("PoP: an acquisition span under the caller's span, a CLIENT child per token request, then a cache hit and a resource call", async () => {
    const { client } = confidentialClient();
    const parent = caller().startSpan("caller");
    const result = await context.with(trace.setSpan(context.active(), parent), async () => {
      const first = await client.acquireTokenForClient({ scopes: [scope()], mtlsProofOfPossession: true });
      const hit = await client.acquireTokenForClient({ scopes: [scope()], mtlsProofOfPossession: true });
      expect(hit.metadata.tokenSource).toBe("cache");
      const resource = new ResourceCaller({ transport, ca: emu.caCertificatePem });
      const response = await resource.call(first, `${emu.resourceUrl}/secrets/s1?version=2`);
      expect(response.status).toBe(200);
      return first;
    });
    parent.end();
    expect(result.tokenType).toBe("mtls_pop");

    const acquisitions = named(TELEMETRY_NAMES.acquireSpan);
    expect(acquisitions).toHaveLength(2);
    const [network, cached] = acquisitions as [ReadableSpan, ReadableSpan];
    for (const span of acquisitions) {
      expect(span.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
      expect(span.kind).toBe(SpanKind.INTERNAL);
      expect(span.attributes["certbound.token.type"]).toBe("mtls_pop");
    }
    expect(network.attributes).toMatchObject({
      "certbound.token.source": "identity_provider",
      "certbound.cache.hit": false,
      "certbound.retry_count": 0,
      "certbound.correlation_id": result.metadata.correlationId,
      "server.address": "127.0.0.1",
    });
    expect(network.attributes["server.port"]).toBe(Number(new URL(emu.mtlsAuthorityHost).port || 443));
    expect(cached.attributes).toMatchObject({
      "certbound.token.source": "cache",
      "certbound.cache.hit": true,
    });
    expect(childrenOf(cached)).toEqual([]);

    const [request, ...more] = childrenOf(network);
    expect(more).toEqual([]);
    expect(request?.kind).toBe(SpanKind.CLIENT);
    expect(request?.name).toBe("POST");
    expect(request?.attributes).toMatchObject({
      "http.request.method": "POST",
      "http.response.status_code": 200,
      "server.address": "127.0.0.1",
      "certbound.mutual_tls": true,
    });
    // No PII logging: the tenant in the token endpoint's path is not published.
    const url = String(request?.attributes["url.full"]);
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/<pii>\/oauth2\/v2\.0\/token$/);
    expect(url).not.toContain(emu.tenantId);

    const resourceSpan = spans().find((s) => s.attributes["url.full"] === `${emu.resourceUrl}/secrets/s1`);
    expect(resourceSpan?.kind).toBe(SpanKind.CLIENT);
    expect(resourceSpan?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(resourceSpan?.attributes).toMatchObject({
      "http.request.method": "GET",
      "http.response.status_code": 200,
      "certbound.token.type": "mtls_pop",
    });

    expect(sum(await metric(TELEMETRY_NAMES.cacheHits))).toBe(1);
    // The first call's lookup, and the credential's own lookup is the token manager's: one miss.
    expect(sum(await metric(TELEMETRY_NAMES.cacheMisses))).toBe(1);
    const durations = await metric(TELEMETRY_NAMES.acquireDuration);
    expect(
      durations
        .map((p) => p.attributes)
        .sort((a, b) =>
          String(a["certbound.token.source"]).localeCompare(String(b["certbound.token.source"])),
        ),
    ).toEqual([
      { "certbound.token.source": "cache", "certbound.token.type": "mtls_pop" },
      { "certbound.token.source": "identity_provider", "certbound.token.type": "mtls_pop" },
    ]);
    const expiry = await metric(TELEMETRY_NAMES.expiresIn);
    expect(sum(expiry)).toBe(2);
    const expected = (result.expiresOn.getTime() - clock.now()) / 1000;
    for (const point of expiry) expect((point.value as Histogram).max).toBeCloseTo(expected, 0);
    client.close();
  });

  it("Bearer with a 500 retried: one acquisition span with two request children, a retry event and the retries counter", async () => {
    const { client } = confidentialClient();
    emu.injectFault("token", { status: 500 });
    const result = await client.acquireTokenForClient({ scopes: [scope()] });
    expect(result.tokenType).toBe("Bearer");
    expect(clock.sleeps).toEqual([1000]);

    const [acquisition] = named(TELEMETRY_NAMES.acquireSpan);
    if (!acquisition) throw new Error("no acquisition span");
    expect(acquisition.attributes["certbound.retry_count"]).toBe(1);
    expect(
      acquisition.events.map((e) => [
        e.name,
        e.attributes?.["certbound.retry.reason"],
        e.attributes?.["certbound.retry.delay_ms"],
      ]),
    ).toEqual([["certbound.retry", "http_500", 1000]]);
    const requests = childrenOf(acquisition);
    expect(requests.map((s) => s.attributes["http.response.status_code"])).toEqual([500, 200]);
    expect(requests[0]?.attributes["error.type"]).toBe("500");
    expect(requests[0]?.status.code).toBe(SpanStatusCode.ERROR);
    expect(requests[1]?.attributes["http.request.resend_count"]).toBe(1);
    expect(requests[1]?.attributes["certbound.mutual_tls"]).toBe(false);

    const retries = await metric(TELEMETRY_NAMES.retries);
    expect(retries.map((p) => [p.attributes["certbound.retry.reason"], p.value])).toEqual([["http_500", 1]]);
    client.close();
  });

  it("a failed acquisition: the span is an error typed by the error code, and the duration is recorded with error.type", async () => {
    const cert = ca.issue({ commonName: "unregistered", keyType: "rsa" });
    const client = createConfidentialClient({
      clientId: randomUUID(),
      authority: `${emu.authorityHost}/${emu.tenantId}`,
      authorityHost: emu.authorityHost,
      ca: emu.caCertificatePem,
      certificate: { certificatePem: cert.certificatePem, privateKey: cert.privateKey },
      transport,
      clock,
      env: {},
    });
    const error = await client.acquireTokenForClient({ scopes: [scope()] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "service_error" });
    const [acquisition] = named(TELEMETRY_NAMES.acquireSpan);
    expect(acquisition?.status.code).toBe(SpanStatusCode.ERROR);
    expect(acquisition?.attributes["error.type"]).toBe("service_error");
    expect(
      childrenOf(acquisition as ReadableSpan).map((s) => s.attributes["http.response.status_code"]),
    ).toEqual([400]);
    const durations = await metric(TELEMETRY_NAMES.acquireDuration);
    expect(durations.map((p) => p.attributes)).toEqual([
      {
        "certbound.token.source": "identity_provider",
        "certbound.token.type": "Bearer",
        "error.type": "service_error",
      },
    ]);
    expect(sum(await metric(TELEMETRY_NAMES.expiresIn))).toBe(0);
    client.close();
  });

  it("with PII logging on, the client and tenant ids and the tenant in the URL are published", async () => {
    const logger: Logger = { piiLoggingEnabled: true, log: () => {} };
    const { client, clientId } = confidentialClient(logger);
    await client.acquireTokenForClient({ scopes: [scope()] });
    const [acquisition] = named(TELEMETRY_NAMES.acquireSpan);
    expect(acquisition?.attributes["certbound.client_id"]).toBe(clientId);
    expect(acquisition?.attributes["certbound.tenant_id"]).toBe(emu.tenantId);
    expect(String(childrenOf(acquisition as ReadableSpan)[0]?.attributes["url.full"])).toContain(
      `/${emu.tenantId}/`,
    );
    client.close();
  });
});

describe("managed identity", () => {
  it("PoP: the binding-certificate mint and every IMDS and token request are children of the acquisition span", async () => {
    const msi = managedIdentity();
    const result = await msi.acquireToken({ resource: emu.resourceUrl, mtlsProofOfPossession: true });
    expect(result.tokenType).toBe("mtls_pop");
    const [acquisition] = named(TELEMETRY_NAMES.acquireSpan);
    if (!acquisition) throw new Error("no acquisition span");
    const children = childrenOf(acquisition);
    const mint = children.find((s) => s.name === TELEMETRY_NAMES.mintSpan);
    expect(mint?.attributes["certbound.certificate.x5t_s256"]).toBe(result.bindingCertificate?.x5tS256);
    expect(mint?.attributes["certbound.certificate.not_after"]).toBe(
      result.bindingCertificate?.notAfter.toISOString(),
    );
    const requests = children.filter((s) => s.kind === SpanKind.CLIENT);
    const paths = requests.map(
      (s) => new URL(String(s.attributes["url.full"]).replace("<pii>", "x")).pathname,
    );
    expect(paths.some((p) => p.endsWith("/getplatformmetadata"))).toBe(true);
    expect(paths.some((p) => p.endsWith("/issuecredential"))).toBe(true);
    expect(paths.some((p) => p.endsWith("/oauth2/v2.0/token"))).toBe(true);
    for (const request of requests) expect(String(request.attributes["url.full"])).not.toContain("?");
    expect(
      requests.find((s) => String(s.attributes["url.full"]).endsWith("/token"))?.attributes[
        "certbound.mutual_tls"
      ],
    ).toBe(true);
    await msi.close();
  });

  it("Bearer with IMDS answering 500 once: the retry is counted, and url.full has no query string", async () => {
    const msi = managedIdentity();
    emu.injectFault("imdsToken", { status: 500, count: 1 });
    const result = await msi.acquireToken({ resource: emu.resourceUrl });
    expect(result.tokenType).toBe("Bearer");
    const [acquisition] = named(TELEMETRY_NAMES.acquireSpan);
    expect(acquisition?.attributes["certbound.retry_count"]).toBe(1);
    const requests = childrenOf(acquisition as ReadableSpan);
    expect(requests.map((s) => [s.name, s.attributes["http.response.status_code"]])).toEqual([
      ["GET", 500],
      ["GET", 200],
    ]);
    for (const request of requests) {
      expect(request.attributes["url.full"]).toMatch(
        /^http:\/\/127\.0\.0\.1:\d+\/metadata\/identity\/oauth2\/token$/,
      );
    }
    expect(
      (await metric(TELEMETRY_NAMES.retries)).map((p) => p.attributes["certbound.retry.reason"]),
    ).toEqual(["http_500"]);
    await msi.close();
  });
});

describe("background refresh", () => {
  it("a hit past refreshOn starts a refresh span; a failing refresh is an error span and counted", async () => {
    let calls = 0;
    const manager = createTokenManager({
      clock,
      fetcher: async () => {
        calls++;
        if (calls > 1) throw Object.assign(new Error("down"), { code: "network_error" });
        return {
          accessToken: "a".repeat(40),
          tokenType: "Bearer",
          expiresOn: new Date(clock.now() + 3_600_000),
          refreshOn: new Date(clock.now() + 600_000),
        };
      },
    });
    const request = { clientId: "c", authority: "a", scopes: ["s"] };
    await manager.acquireToken(request);
    await clock.advance(1_200_000);
    const hit = await manager.acquireToken(request);
    expect(hit.metadata.tokenSource).toBe("cache");
    await expect.poll(() => named(TELEMETRY_NAMES.refreshSpan).length).toBe(1);
    const [refresh] = named(TELEMETRY_NAMES.refreshSpan);
    expect(refresh?.status.code).toBe(SpanStatusCode.ERROR);
    expect(refresh?.attributes["error.type"]).toBe("network_error");
    expect(sum(await metric(TELEMETRY_NAMES.refreshFailures))).toBe(1);
    manager.close();
  });
});

describe("payloads", () => {
  it("no token, key, assertion or (without PII logging) client or tenant id in any payload, span or metric", async () => {
    const payloads: Array<[string, unknown]> = [];
    const record = (message: unknown, name: string | symbol) => payloads.push([String(name), message]);
    const names = Object.values(DIAGNOSTICS_CHANNELS);
    for (const name of names) subscribe(name, record);
    try {
      // Records the client assertions the app sends, to look for them afterwards.
      const assertions: string[] = [];
      const recording: HttpTransport = {
        send(request) {
          const assertion = new URLSearchParams(String(request.body ?? "")).get("client_assertion");
          if (assertion) assertions.push(assertion);
          return transport.send(request);
        },
      };
      const { client, clientId, cert } = confidentialClient(undefined, recording);
      const pop = await client.acquireTokenForClient({ scopes: [scope()], mtlsProofOfPossession: true });
      emu.injectFault("token", { status: 500 });
      const bearer = await client.acquireTokenForClient({ scopes: [scope()] });
      const msi = managedIdentity();
      const msiPop = await msi.acquireToken({ resource: emu.resourceUrl, mtlsProofOfPossession: true });
      const resource = new ResourceCaller({ transport, ca: emu.caCertificatePem });
      await resource.call(pop, `${emu.resourceUrl}/secrets/s1?sig=${"q".repeat(20)}`);

      const scanner = new SecretScanner();
      for (const token of [pop, bearer, msiPop]) scanner.secret("access token", token.accessToken);
      scanner.privateKey("app key", cert.privateKey);
      if (msiPop.bindingCertificate) scanner.privateKey("msi key", msiPop.bindingCertificate.privateKey);
      scanner.secret("client id", clientId);
      scanner.secret("tenant id", emu.tenantId);
      scanner.secret("query", "q".repeat(20));
      expect(assertions.length).toBeGreaterThan(0);
      for (const assertion of assertions) scanner.secret("client assertion", assertion);
      scanner.collect("payloads", payloads);
      scanner.collect(
        "spans",
        spans().map((s) => ({ name: s.name, attributes: s.attributes, events: s.events })),
      );
      scanner.collect("metrics", (await reader.collect()).resourceMetrics.scopeMetrics);
      expect(scanner.collected).toBeGreaterThan(100);
      expect(new Set(payloads.map(([name]) => name)).size).toBeGreaterThanOrEqual(10);
      expect(scanner.leaks()).toEqual([]);
      client.close();
      await msi.close();
    } finally {
      for (const name of names) unsubscribe(name, record);
    }
  });

  it("a tracer or meter that throws never breaks an acquisition", async () => {
    instrumentation.disable();
    const broken = () => {
      throw new Error("telemetry backend bug");
    };
    const throwing = instrumentCertbound({
      tracerProvider: { getTracer: () => ({ startSpan: broken, startActiveSpan: broken }) },
      meterProvider: meterProvider,
    });
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on("uncaughtException", onUncaught);
    try {
      const { client } = confidentialClient();
      const result = await client.acquireTokenForClient({ scopes: [scope()] });
      expect(result.tokenType).toBe("Bearer");
      // Let any error Node defers from a subscriber surface before checking.
      await new Promise((resolve) => setImmediate(resolve));
      expect(uncaught).toEqual([]);
      // The metrics still work with a broken tracer.
      expect(sum(await metric(TELEMETRY_NAMES.cacheMisses))).toBe(1);
      client.close();
    } finally {
      process.off("uncaughtException", onUncaught);
      throwing.disable();
    }
  });

  it("nobody listening: no channel has subscribers and nothing is recorded", async () => {
    instrumentation.disable();
    expect(diagnostics.acquireStart.hasSubscribers).toBe(false);
    expect(diagnostics.cacheLookup.hasSubscribers).toBe(false);
    expect(diagnostics.requestStart.hasSubscribers).toBe(false);
    const { client } = confidentialClient();
    await client.acquireTokenForClient({ scopes: [scope()] });
    expect(spans()).toEqual([]);
    client.close();
  });
});
