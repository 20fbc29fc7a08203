/**
 * `@certbound/testing`: what tests of certbound parts need, kept out of the runtime packages so an
 * app's install carries none of it. The conformance suites every implementation must pass
 * ({@link testHttpTransport}, {@link testCacheStore}), the reference store {@link jsonCacheStore},
 * a {@link TestClock} under which retry schedules run instantly, real TLS test servers, a CONNECT
 * proxy and a loopback DNS lookup on 127.0.0.1, {@link runNodeApp} for an app script run as a
 * process, and core's certificate authority (re-exported from `@certbound/core/credential-kit`). It imports vitest: run it inside a vitest run.
 *
 * @example
 * ```ts
 * import { testHttpTransport } from "@certbound/testing";
 * import { createUndiciTransport } from "@certbound/http-undici";
 *
 * testHttpTransport("undici", ({ clock, lookup, proxy, maxIdentities }) =>
 *   createUndiciTransport({ clock, lookup, proxy, maxIdentities }),
 * );
 * ```
 *
 * @packageDocumentation
 */
export type {
  CertificateAuthority,
  CertificateKeyType,
  CertificateRequest,
  IssuedCertificate,
} from "@certbound/core/credential-kit";
export { createCertificateAuthority, generateKeyPair } from "@certbound/core/credential-kit";
export type { CacheStoreSuiteOptions, CacheStoreTestContext } from "./cache-store-conformance";
export { testCacheStore } from "./cache-store-conformance";
export type { ConnectProxy, ConnectProxyOptions, ProxyTunnel } from "./connect-proxy";
export { startConnectProxy } from "./connect-proxy";
export type { JsonCacheStore, JsonCacheStoreOptions } from "./json-cache-store";
export { jsonCacheStore } from "./json-cache-store";
export type { LoopbackLookup } from "./loopback-lookup";
export { createLoopbackLookup } from "./loopback-lookup";
export type { NodeAppRun, RunNodeAppOptions } from "./run-node-app";
export { runNodeApp } from "./run-node-app";
export type { TestClock } from "./test-clock";
export { createTestClock } from "./test-clock";
export type {
  HttpsTestServer,
  HttpsTestServerOptions,
  HttpTestServerOptions,
  RecordedRequest,
  StallingServer,
  TestRequestHandler,
  TestServer,
} from "./test-server";
export { startHttpsTestServer, startHttpTestServer, startStallingServer } from "./test-server";
export type {
  HttpTransportFactory,
  HttpTransportSuiteOptions,
  TestProxyEnvironment,
  TransportCapabilities,
  TransportTestContext,
} from "./transport-conformance";
export { testHttpTransport } from "./transport-conformance";
export type { TransportTestbed, TransportTestbedOptions } from "./transport-testbed";
export { useTransportTestbed } from "./transport-testbed";
