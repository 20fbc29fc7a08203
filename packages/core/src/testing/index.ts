export type {
  CertificateAuthority,
  CertificateKeyType,
  CertificateRequest,
  IssuedCertificate,
} from "../certificate/authority";
export { createCertificateAuthority, generateKeyPair } from "../certificate/authority";
export type { CacheStoreSuiteOptions, CacheStoreTestContext } from "./cache-store-conformance";
export { testCacheStore } from "./cache-store-conformance";
export type { ConnectProxy, ConnectProxyOptions, ProxyTunnel } from "./connect-proxy";
export { startConnectProxy } from "./connect-proxy";
export type { JsonCacheStore, JsonCacheStoreOptions } from "./json-cache-store";
export { jsonCacheStore } from "./json-cache-store";
export type { LoopbackLookup } from "./loopback-lookup";
export { createLoopbackLookup } from "./loopback-lookup";
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
