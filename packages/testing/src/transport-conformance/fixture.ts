// The servers, certificates and helpers the transport conformance cases share, built on the
// transport testbed (its CA, two client identities, the HTTPS server that answers the routes below,
// and a CONNECT proxy) plus what only the conformance suite needs: a strict mTLS server, a plain
// HTTP server, a silent TCP server, refusing proxies and a certificate from another CA.
import { createServer as createNetServer } from "node:net";
import { inspect } from "node:util";
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import {
  type CertboundErrorCode,
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
  isCertboundError,
} from "@certbound/core";
import {
  type CertificateAuthority,
  createCertificateAuthority,
  type IssuedCertificate,
} from "@certbound/core/credential-kit";
import { DEFAULT_MAX_RESPONSE_BYTES } from "@certbound/core/transport-kit";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { type ConnectProxy, startConnectProxy } from "../connect-proxy";
import { createLoopbackLookup, type LoopbackLookup } from "../loopback-lookup";
import { createTestClock, type TestClock } from "../test-clock";
import {
  type HttpsTestServer,
  type StallingServer,
  startHttpsTestServer,
  startHttpTestServer,
  startStallingServer,
  type TestRequestHandler,
  type TestServer,
} from "../test-server";
import type {
  HttpTransportFactory,
  HttpTransportSuiteOptions,
  TestProxyEnvironment,
} from "../transport-conformance";
import { useTransportTestbed } from "../transport-testbed";

/** The bearer secret every request carries: no error may ever show it. */
export const SECRET = "Bearer conformance-secret-token-5f1d";

let bomb: Buffer | undefined;
/** 16 MiB of zeros gzipped (about 16 KB), made once. */
function gzipBomb(): Buffer {
  bomb ??= gzipSync(Buffer.alloc(16 * DEFAULT_MAX_RESPONSE_BYTES), { level: 9 });
  return bomb;
}

/** How a request ended, read without ever leaving a rejection unobserved. */
export interface Settled {
  readonly outcome: Promise<{ response: HttpResponse | undefined; error: unknown }>;
  settled(): boolean;
}

/**
 * What the conformance cases share. The servers and certificates are started before the first
 * case: read them inside tests or hooks.
 *
 * @internal
 */
export interface ConformanceFixture {
  readonly ca: CertificateAuthority;
  readonly otherCa: CertificateAuthority;
  readonly identityA: IssuedCertificate;
  readonly identityB: IssuedCertificate;
  readonly foreignIdentity: IssuedCertificate;
  /** HTTPS, asks for (does not require) client certificates; answers the routes. */
  readonly main: HttpsTestServer;
  /** HTTPS that refuses a client without a certificate from {@link ConformanceFixture.ca}. */
  readonly strict: HttpsTestServer;
  readonly plain: TestServer;
  /** Accepts TCP connections and never answers. */
  readonly stall: StallingServer;
  readonly proxy: ConnectProxy;
  /** Refuses every CONNECT with 403. */
  readonly refusingProxy: ConnectProxy;
  /** Refuses every CONNECT with 407. */
  readonly authProxy: ConnectProxy;
  /** Wakes when the `/hang-body` route has flushed its partial body. */
  readonly partialFlushed: Array<() => void>;
  readonly supportsProxy: boolean;
  readonly supportsIdentityBound: boolean;
  /** A transport from the factory under test, closed after the test. */
  setup(extra?: { proxy?: TestProxyEnvironment; maxIdentities?: number }): Promise<{
    transport: HttpTransport;
    clock: TestClock;
    lookup: LoopbackLookup;
  }>;
  settle(promise: Promise<HttpResponse>): Settled;
  /** The error `promise` fails with, checked to be a CertboundError with one of `codes` and no secret. */
  expectFailure(
    promise: Promise<HttpResponse>,
    codes: readonly CertboundErrorCode[],
  ): Promise<Error & { code: CertboundErrorCode }>;
  /** A GET of `url` with the secret bearer header, trusting {@link ConformanceFixture.ca}. */
  get(url: string, extra?: Partial<HttpRequest>): HttpRequest;
  /** One turn of the event loop. */
  tick(): Promise<void>;
}

/**
 * Starts the conformance servers for the `describe` block it is called in, and closes the
 * transports each test opened.
 *
 * @internal
 */
export function useConformanceFixture(
  factory: HttpTransportFactory,
  options: HttpTransportSuiteOptions,
): ConformanceFixture {
  const supportsProxy = options.capabilities?.proxy ?? true;
  const supportsIdentityBound = options.capabilities?.maxIdentities ?? true;
  let otherCa: CertificateAuthority;
  let foreignIdentity: IssuedCertificate;
  let strict: HttpsTestServer;
  let plain: TestServer;
  let stall: StallingServer;
  let refusingProxy: ConnectProxy;
  let authProxy: ConnectProxy;
  const partialFlushed: Array<() => void> = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  let opened: HttpTransport[] = [];

  const routes: TestRequestHandler = (req, res, recorded) => {
    const url = new URL(recorded.path, "http://localhost");
    const number = (key: string) => Number(url.searchParams.get(key));
    switch (url.pathname) {
      case "/echo": {
        res.setHeader("x-multi", ["a", "b"]);
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ method: recorded.method, path: recorded.path, body: recorded.body }));
        return;
      }
      case "/status":
        res.writeHead(number("code"), { "content-type": "text/plain", "retry-after": "7" });
        res.end(`status ${number("code")}`);
        return;
      case "/redirect":
        res.writeHead(302, { location: "/echo" }).end();
        return;
      case "/hang":
        return;
      case "/hang-body":
        res.writeHead(200, { "content-length": "100" });
        res.write("partial", () => {
          for (const wake of partialFlushed.splice(0)) wake();
        });
        return;
      case "/reset-mid-body":
        res.writeHead(200, { "content-length": "1000" });
        res.write("0123456789", () => req.socket.destroy());
        return;
      case "/close-without-answer":
        req.socket.destroy();
        return;
      case "/bytes": {
        const total = number("n");
        if (url.searchParams.get("chunked") !== "1") res.setHeader("content-length", String(total));
        res.writeHead(200, { "content-type": "application/octet-stream" });
        const chunk = Buffer.alloc(64 * 1024, "a");
        let sent = 0;
        const pump = () => {
          while (sent < total) {
            const size = Math.min(chunk.length, total - sent);
            sent += size;
            if (!res.write(size === chunk.length ? chunk : chunk.subarray(0, size))) {
              res.once("drain", pump);
              return;
            }
          }
          res.end();
        };
        res.on("error", () => {});
        pump();
        return;
      }
      case "/utf8": {
        // "✓" is three bytes; split it across two writes so a naive per-chunk decoder breaks.
        const bytes = Buffer.from("héllo ✓ 世界", "utf8");
        const cut = bytes.indexOf(0xe2) + 1;
        res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
        res.write(bytes.subarray(0, cut), () => res.end(bytes.subarray(cut)));
        return;
      }
      case "/compressed": {
        // The same JSON under every content-encoding a server may send, asked for or not.
        const plainBody = Buffer.from(JSON.stringify({ ok: "compressed ✓" }), "utf8");
        const encoding = url.searchParams.get("enc") ?? "gzip";
        const encoded =
          encoding === "br"
            ? brotliCompressSync(plainBody)
            : encoding === "deflate"
              ? deflateSync(plainBody)
              : encoding === "deflate-raw"
                ? deflateRawSync(plainBody)
                : gzipSync(plainBody);
        res.writeHead(200, {
          "content-type": "application/json",
          "content-encoding": encoding === "deflate-raw" ? "deflate" : encoding,
          "content-length": String(encoded.length),
        });
        res.end(encoded);
        return;
      }
      case "/gzip-bomb": {
        // A few KB on the wire that inflate to 16 times the default body cap.
        res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
        res.end(gzipBomb());
        return;
      }
      default:
        res.writeHead(404).end("no such route");
    }
  };

  // Registered before the testbed's hooks: vitest runs after-each hooks last registered first, so
  // this runs once the testbed has closed the test's transports and seen the main server go idle.
  afterEach(async () => {
    const transports = opened;
    opened = [];
    if (transports.every((transport) => typeof transport.close === "function")) {
      // close() must leave nothing open: wait for the servers to see every socket go away.
      await Promise.all([strict, plain, stall].map((server) => server.waitForIdle()));
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(unhandled, "unhandled rejections during the test").toEqual([]);
  });

  const bed = useTransportTestbed({ handler: routes });

  beforeAll(async () => {
    process.on("unhandledRejection", onUnhandled);
    otherCa = createCertificateAuthority({ commonName: "conformance other CA" });
    foreignIdentity = otherCa.issue({ commonName: "client from another CA" });
    [strict, plain, stall, refusingProxy, authProxy] = await Promise.all([
      startHttpsTestServer({ authority: bed.ca, handler: routes, requireTrustedClientCertificate: true }),
      startHttpTestServer({ handler: routes }),
      startStallingServer(),
      startConnectProxy({ refuseWith: 403 }),
      startConnectProxy({ refuseWith: 407 }),
    ]);
  });

  afterAll(async () => {
    process.off("unhandledRejection", onUnhandled);
    await Promise.all([strict, plain, stall, refusingProxy, authProxy].map((s) => s?.close()));
  });

  beforeEach(() => {
    for (const server of [bed.server, strict, plain, bed.proxy, refusingProxy, authProxy]) server.reset();
    unhandled.length = 0;
  });

  async function setup(extra: { proxy?: TestProxyEnvironment; maxIdentities?: number } = {}) {
    const clock = createTestClock({ autoAdvance: false });
    const lookup = createLoopbackLookup();
    const transport = await factory({ clock, lookup, ...extra });
    opened.push(bed.track(transport));
    return { transport, clock, lookup };
  }

  /** Settles without ever leaving a rejection unobserved. */
  function settle(promise: Promise<HttpResponse>) {
    let done = false;
    const outcome = promise.then(
      (response) => {
        done = true;
        return { response, error: undefined as unknown };
      },
      (error: unknown) => {
        done = true;
        return { response: undefined, error };
      },
    );
    return { outcome, settled: () => done };
  }

  async function expectFailure(promise: Promise<HttpResponse>, codes: readonly CertboundErrorCode[]) {
    const { response, error } = await settle(promise).outcome;
    expect(response, "expected the request to fail").toBeUndefined();
    expect(isCertboundError(error), `expected a CertboundError, got ${inspect(error)}`).toBe(true);
    const code = (error as { code: CertboundErrorCode }).code;
    expect(codes, `unexpected code ${code}: ${(error as Error).message}`).toContain(code);
    // No secret in the message, in the cause chain, or in anything attached to the error.
    expect(inspect(error, { depth: 8, showHidden: false })).not.toContain(SECRET);
    return error as Error & { code: CertboundErrorCode };
  }

  const get = (url: string, extra: Partial<HttpRequest> = {}): HttpRequest => ({
    method: "GET",
    url,
    headers: { authorization: SECRET },
    ca: bed.ca.certificatePem,
    ...extra,
  });

  const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

  return {
    get ca() {
      return bed.ca;
    },
    get otherCa() {
      return otherCa;
    },
    get identityA() {
      return bed.identityA;
    },
    get identityB() {
      return bed.identityB;
    },
    get foreignIdentity() {
      return foreignIdentity;
    },
    get main() {
      return bed.server;
    },
    get strict() {
      return strict;
    },
    get plain() {
      return plain;
    },
    get stall() {
      return stall;
    },
    get proxy() {
      return bed.proxy;
    },
    get refusingProxy() {
      return refusingProxy;
    },
    get authProxy() {
      return authProxy;
    },
    partialFlushed,
    supportsProxy,
    supportsIdentityBound,
    setup,
    settle,
    expectFailure,
    get,
    tick,
  };
}

/** A TCP port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
