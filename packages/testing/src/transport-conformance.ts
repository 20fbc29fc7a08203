import type { HttpTransport } from "@certbound/core";
import { describe } from "vitest";
import type { LoopbackLookup } from "./loopback-lookup";
import type { TestClock } from "./test-clock";
import { abortAndTimeoutCases } from "./transport-conformance/abort-and-timeout";
import { clientIdentityCases } from "./transport-conformance/client-identities";
import { compressedAnswerCases } from "./transport-conformance/compressed-answers";
import { useConformanceFixture } from "./transport-conformance/fixture";
import { lifecycleCases } from "./transport-conformance/lifecycle";
import { networkFailureCases } from "./transport-conformance/network-failures";
import { proxyCases } from "./transport-conformance/proxy";
import { requestHeaderCases } from "./transport-conformance/request-headers";
import { responseSizeCapCases } from "./transport-conformance/response-size-cap";
import { roundTripCases } from "./transport-conformance/round-trips";
import { serverPinningCases } from "./transport-conformance/server-pinning";
import { tlsFailureCases } from "./transport-conformance/tls-failures";

/**
 * Proxy settings the suite hands to a transport, in the shape of `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`.
 *
 * @public
 */
export interface TestProxyEnvironment {
  readonly httpsProxy?: string;
  readonly httpProxy?: string;
  readonly noProxy?: string;
}

/**
 * What the suite gives the factory for each test.
 *
 * @public
 */
export interface TransportTestContext {
  /**
   * A clock with `autoAdvance: false`: build the transport on it so that `request.timeoutMs` fires
   * only when the suite calls `clock.advance()`.
   */
  readonly clock: TestClock;
  /** Resolves every hostname to 127.0.0.1: pass it as the transport's DNS lookup. */
  readonly lookup: LoopbackLookup;
  /**
   * Present in the proxy cases only: enable the transport's proxy support with exactly these
   * settings (never by reading or changing `process.env`).
   */
  readonly proxy?: TestProxyEnvironment;
  /**
   * Present in the identity-bound case only: keep connection pools for at most this many client
   * identities, closing the least recently used one's connections beyond it.
   */
  readonly maxIdentities?: number;
}

/**
 * Builds a fresh transport for one test.
 *
 * @public
 */
export type HttpTransportFactory = (context: TransportTestContext) => HttpTransport | Promise<HttpTransport>;

/**
 * What a transport declares it supports. A missing capability swaps the cases that need it for
 * cases that check the transport degrades safely; nothing is skipped silently.
 * @public
 */
export interface TransportCapabilities {
  /**
   * The transport honours `context.proxy` for requests with `proxy: "environment"`. When false, the
   * suite checks instead that such requests go direct.
   * @default true
   */
  readonly proxy?: boolean;
  /**
   * The transport honours `context.maxIdentities`. When false, the suite checks instead that
   * identities are still never mixed when the bound is offered.
   * @default true
   */
  readonly maxIdentities?: boolean;
}

/**
 * Options of {@link testHttpTransport}.
 *
 * @public
 */
export interface HttpTransportSuiteOptions {
  readonly capabilities?: TransportCapabilities;
}

/**
 * The conformance suite every {@link HttpTransport} must pass. Call it at the top level of a vitest
 * test file. It starts real servers on 127.0.0.1 (HTTPS asking for client certificates, a strict
 * mTLS server, plain HTTP, a silent TCP server, a CONNECT proxy) with a CA and client certificates
 * made at run time, and checks: round trips; that each request presents exactly its identity's
 * certificate and that connections are never shared across identities, and that pools beyond
 * `maxIdentities` are closed least recently used first, and that pools are keyed by the certificate
 * carried, never by a forged `x5tS256`; headers with CR/LF, NUL or non-latin-1 characters refused
 * before sending (`invalid_options`); gzip/deflate/br answers decoded within the body cap (a gzip
 * bomb is `response_too_large`) and no compression advertised of its own; keep-alive; TLS failures
 * (untrusted server, wrong host name, rejected or missing client certificate, a key that does not
 * belong to its certificate) as `tls_handshake_failed`; server pinning, malformed pins included;
 * 4xx/5xx and redirects as responses; abort and timeout (driven by the test clock); resets as
 * `network_error`; the 1 MiB response cap; secrets and query strings kept out of errors; no
 * unhandled rejection; no socket left open after `close()` and no request sent after it; and proxy
 * routing (proxy credentials sent as `Proxy-Authorization` only, pinned requests direct, tunnelled
 * and direct connections of one identity kept apart).
 *
 * Link-local destinations (169.254.0.0/16) cannot be reached from a test, so their proxy bypass is
 * not checked here: each adapter unit-tests the predicate it routes with. Loopback bypass is
 * checked end to end.
 *
 * @public
 * @example
 * ```ts
 * import { testHttpTransport } from "@certbound/testing";
 * import { createUndiciTransport } from "@certbound/http-undici";
 *
 * testHttpTransport("undici", ({ clock, lookup, proxy, maxIdentities }) =>
 *   createUndiciTransport({ clock, lookup, proxy, maxIdentities }),
 * );
 * ```
 */
export function testHttpTransport(
  name: string,
  factory: HttpTransportFactory,
  options: HttpTransportSuiteOptions = {},
): void {
  describe(`HttpTransport conformance: ${name}`, () => {
    const fx = useConformanceFixture(factory, options);
    roundTripCases(fx);
    requestHeaderCases(fx);
    compressedAnswerCases(fx);
    clientIdentityCases(fx);
    tlsFailureCases(fx);
    serverPinningCases(fx);
    abortAndTimeoutCases(fx);
    networkFailureCases(fx);
    responseSizeCapCases(fx);
    lifecycleCases(fx);
    proxyCases(fx);
  });
}
