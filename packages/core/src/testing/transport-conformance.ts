import { createServer as createNetServer } from "node:net";
import { inspect } from "node:util";
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type CertificateAuthority,
  createCertificateAuthority,
  type IssuedCertificate,
} from "../certificate/authority";
import { type CertboundErrorCode, isCertboundError } from "../protocol/errors";
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
} from "../seams/transport";
import { type ConnectProxy, startConnectProxy } from "./connect-proxy";
import { createLoopbackLookup, type LoopbackLookup } from "./loopback-lookup";
import { createTestClock, type TestClock } from "./test-clock";
import {
  type HttpsTestServer,
  type StallingServer,
  startHttpsTestServer,
  startHttpTestServer,
  startStallingServer,
  type TestRequestHandler,
  type TestServer,
} from "./test-server";

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

const SECRET = "Bearer conformance-secret-token-5f1d";

let bomb: Buffer | undefined;
/** 16 MiB of zeros gzipped (about 16 KB), made once. */
function gzipBomb(): Buffer {
  bomb ??= gzipSync(Buffer.alloc(16 * DEFAULT_MAX_RESPONSE_BYTES), { level: 9 });
  return bomb;
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
 * import { testHttpTransport } from "@certbound/core/testing";
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
  const supportsProxy = options.capabilities?.proxy ?? true;
  const supportsIdentityBound = options.capabilities?.maxIdentities ?? true;

  describe(`HttpTransport conformance: ${name}`, () => {
    let ca: CertificateAuthority;
    let otherCa: CertificateAuthority;
    let identityA: IssuedCertificate;
    let identityB: IssuedCertificate;
    let foreignIdentity: IssuedCertificate;
    let main: HttpsTestServer;
    let strict: HttpsTestServer;
    let plain: TestServer;
    let stall: StallingServer;
    let proxy: ConnectProxy;
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

    beforeAll(async () => {
      process.on("unhandledRejection", onUnhandled);
      ca = createCertificateAuthority({ commonName: "conformance CA" });
      otherCa = createCertificateAuthority({ commonName: "conformance other CA" });
      identityA = ca.issue({ commonName: "client A" });
      identityB = ca.issue({ commonName: "client B" });
      foreignIdentity = otherCa.issue({ commonName: "client from another CA" });
      [main, strict, plain, stall, proxy, refusingProxy, authProxy] = await Promise.all([
        startHttpsTestServer({ authority: ca, handler: routes }),
        startHttpsTestServer({ authority: ca, handler: routes, requireTrustedClientCertificate: true }),
        startHttpTestServer({ handler: routes }),
        startStallingServer(),
        startConnectProxy(),
        startConnectProxy({ refuseWith: 403 }),
        startConnectProxy({ refuseWith: 407 }),
      ]);
    });

    afterAll(async () => {
      process.off("unhandledRejection", onUnhandled);
      await Promise.all([main, strict, plain, stall, proxy, refusingProxy, authProxy].map((s) => s?.close()));
    });

    beforeEach(() => {
      for (const server of [main, strict, plain, proxy, refusingProxy, authProxy]) server.reset();
      unhandled.length = 0;
    });

    afterEach(async () => {
      const transports = opened;
      opened = [];
      await Promise.all(transports.map((transport) => transport.close?.()));
      if (transports.every((transport) => typeof transport.close === "function")) {
        // close() must leave nothing open: wait for the servers to see every socket go away.
        await Promise.all([main, strict, plain, stall].map((server) => server.waitForIdle()));
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(unhandled, "unhandled rejections during the test").toEqual([]);
    });

    async function setup(extra: { proxy?: TestProxyEnvironment; maxIdentities?: number } = {}) {
      const clock = createTestClock({ autoAdvance: false });
      const lookup = createLoopbackLookup();
      const transport = await factory({ clock, lookup, ...extra });
      opened.push(transport);
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
      ca: ca.certificatePem,
      ...extra,
    });

    const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

    describe("round trips", () => {
      it("GET: status, response headers (repeats joined) and request headers", async () => {
        const { transport } = await setup();
        const response = await transport.send(
          get(`${main.origin}/echo?x=1&y=%20`, { headers: { "x-custom": "value 1", accept: "text/plain" } }),
        );
        expect(response.status).toBe(200);
        expect(response.headers["content-type"]).toBe("application/json");
        expect(response.headers["x-multi"]).toBe("a, b");
        for (const key of Object.keys(response.headers)) expect(key).toBe(key.toLowerCase());
        expect(JSON.parse(response.body)).toEqual({ method: "GET", path: "/echo?x=1&y=%20", body: "" });
        const seen = main.requests[0];
        expect(seen?.headers["x-custom"]).toBe("value 1");
        expect(seen?.headers.accept).toBe("text/plain");
      });

      it("POST with a string body", async () => {
        const { transport } = await setup();
        const body = "grant_type=client_credentials&scope=https%3A%2F%2Fx%2F.default&note=h%C3%A9";
        const response = await transport.send({
          ...get(`${main.origin}/echo`),
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body,
        });
        expect(response.status).toBe(200);
        expect(JSON.parse(response.body)).toMatchObject({ method: "POST", body });
        expect(main.requests[0]?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
        expect(main.requests[0]?.headers["content-length"]).toBe(String(Buffer.byteLength(body)));
      });

      it("POST with a Uint8Array body that is a view into a larger buffer", async () => {
        const { transport } = await setup();
        const backing = Buffer.from('XXXX{"csr":"abc"}YYYY');
        const body = new Uint8Array(backing.buffer, backing.byteOffset + 4, backing.length - 8);
        const response = await transport.send({
          ...get(`${main.origin}/echo`),
          method: "POST",
          headers: { "content-type": "application/json; charset=utf-8" },
          body,
        });
        expect(JSON.parse(response.body)).toMatchObject({ body: '{"csr":"abc"}' });
      });

      it("decodes UTF-8 split across chunks", async () => {
        const { transport } = await setup();
        const response = await transport.send(get(`${main.origin}/utf8`));
        expect(response.body).toBe("héllo ✓ 世界");
      });

      it("plain HTTP works, with or without an identity on the request", async () => {
        const { transport } = await setup();
        const first = await transport.send(get(`${plain.origin}/echo`));
        const second = await transport.send(get(`${plain.origin}/echo`, { clientIdentity: identityA }));
        expect([first.status, second.status]).toEqual([200, 200]);
        expect(plain.requests).toHaveLength(2);
      });

      it("returns 4xx and 5xx as responses", async () => {
        const { transport } = await setup();
        for (const code of [400, 401, 404, 429, 500, 503]) {
          const response = await transport.send(get(`${main.origin}/status?code=${code}`));
          expect(response.status).toBe(code);
          expect(response.body).toBe(`status ${code}`);
          expect(response.headers["retry-after"]).toBe("7");
        }
      });

      it("returns a redirect as a response and does not follow it", async () => {
        const { transport } = await setup();
        const response = await transport.send(get(`${main.origin}/redirect`));
        expect(response.status).toBe(302);
        expect(response.headers.location).toBe("/echo");
        expect(main.requests.map((r) => r.path)).toEqual(["/redirect"]);
      });
    });

    describe("request headers", () => {
      for (const [label, value] of [
        ["CR/LF", "a\r\nx-injected: 1"],
        ["a lone LF", "a\nb"],
        ["NUL", "a\u0000b"],
        ["a character outside latin-1", "caf\u00e9 \u2713"],
      ] as const) {
        it(`refuses a header value with ${label} before sending (invalid_options)`, async () => {
          const { transport } = await setup();
          const error = await expectFailure(
            transport.send(
              get(`${main.origin}/echo`, { headers: { authorization: SECRET, "x-bad": value } }),
            ),
            ["invalid_options"],
          );
          expect(error.message).toContain("x-bad");
          expect(main.requests).toHaveLength(0);
          expect(main.connections).toBe(0);
        });
      }

      it("refuses a header name that is not an HTTP token before sending", async () => {
        const { transport } = await setup();
        await expectFailure(transport.send(get(`${main.origin}/echo`, { headers: { "x bad\r\n": "v" } })), [
          "invalid_options",
        ]);
        expect(main.requests).toHaveLength(0);
      });

      it("advertises no compression of its own (accept-encoding absent or identity)", async () => {
        const { transport } = await setup();
        await transport.send(get(`${main.origin}/echo`));
        expect([undefined, "identity"]).toContain(main.requests[0]?.headers["accept-encoding"]);
      });
    });

    describe("compressed answers", () => {
      for (const encoding of ["gzip", "deflate", "deflate-raw", "br"]) {
        it(`decodes a ${encoding} body and drops content-encoding`, async () => {
          const { transport } = await setup();
          const response = await transport.send(get(`${main.origin}/compressed?enc=${encoding}`));
          expect(JSON.parse(response.body)).toEqual({ ok: "compressed ✓" });
          expect(response.headers["content-encoding"]).toBeUndefined();
        });
      }

      it("a gzip bomb inflating past the cap is response_too_large, and the transport still works", async () => {
        const { transport } = await setup();
        await expectFailure(transport.send(get(`${main.origin}/gzip-bomb`)), ["response_too_large"]);
        const next = await transport.send(get(`${main.origin}/echo`));
        expect(next.status).toBe(200);
      });
    });

    describe("client identities", () => {
      it("keys pools by the certificate: a forged identity (x5tS256 of A, certificate of B) never poisons A's pool", async () => {
        const { transport } = await setup();
        const forged = { ...identityB, x5tS256: identityA.x5tS256 };
        const first = await settle(transport.send(get(`${main.origin}/echo`, { clientIdentity: forged })))
          .outcome;
        // Refusing the forged identity is the expected answer; if a transport sends it, it must at
        // least present what it carries, never reuse A's connection.
        if (first.error !== undefined) {
          expect((first.error as { code?: string }).code).toBe("tls_handshake_failed");
        } else {
          expect(main.requests.at(-1)?.clientX5tS256).toBe(identityB.x5tS256);
        }
        await transport.send(get(`${main.origin}/echo`, { clientIdentity: identityA }));
        await transport.send(get(`${main.origin}/echo`, { clientIdentity: { ...identityA } }));
        const genuine = main.requests.slice(first.error === undefined ? 1 : 0);
        expect(genuine.map((r) => r.clientX5tS256)).toEqual([identityA.x5tS256, identityA.x5tS256]);
        expectOneCertificatePerConnection();
      });

      it("presents exactly the certificate of the request's identity", async () => {
        const { transport } = await setup();
        await transport.send(get(`${main.origin}/echo`, { clientIdentity: identityA }));
        await transport.send(get(`${main.origin}/echo`, { clientIdentity: identityB }));
        expect(main.requests.map((r) => r.clientX5tS256)).toEqual([identityA.x5tS256, identityB.x5tS256]);
        expect(main.requests.every((r) => r.clientAuthorized)).toBe(true);
      });

      it("never shares a connection between identities (A, B, A, B, A, B)", async () => {
        const { transport } = await setup();
        const order = [identityA, identityB, identityA, identityB, identityA, identityB];
        for (const identity of order) {
          await transport.send(get(`${main.origin}/echo`, { clientIdentity: identity }));
        }
        expect(main.requests.map((r) => r.clientX5tS256)).toEqual(order.map((i) => i.x5tS256));
        expectOneCertificatePerConnection();
        expect(new Set(main.requests.map((r) => r.connectionId)).size).toBe(2);
        expect(main.connections).toBe(2);
      });

      it("never shares a connection between identities under concurrency", async () => {
        const { transport } = await setup();
        const identities = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? identityA : identityB));
        const responses = await Promise.all(
          identities.map((identity) =>
            transport.send(get(`${main.origin}/echo`, { clientIdentity: identity })),
          ),
        );
        expect(responses.every((r) => r.status === 200)).toBe(true);
        expectOneCertificatePerConnection();
        const presented = main.requests.map((r) => r.clientX5tS256).sort();
        expect(presented).toEqual(identities.map((i) => i.x5tS256).sort());
      });

      it("a request without identity presents none and never rides an identity's connection", async () => {
        const { transport } = await setup();
        await transport.send(get(`${main.origin}/echo`, { clientIdentity: identityA }));
        await transport.send(get(`${main.origin}/echo`));
        await transport.send(get(`${main.origin}/echo`, { clientIdentity: identityA }));
        await transport.send(get(`${main.origin}/echo`));
        const [a1, none1, a2, none2] = main.requests;
        expect(none1?.clientX5tS256).toBeUndefined();
        expect(none2?.clientX5tS256).toBeUndefined();
        expect(a2?.clientX5tS256).toBe(identityA.x5tS256);
        expect(none1?.connectionId).not.toBe(a1?.connectionId);
        expect(a2?.connectionId).toBe(a1?.connectionId);
        expect(none2?.connectionId).toBe(none1?.connectionId);
        expectOneCertificatePerConnection();
      });

      it("100 sequential requests with one identity to one origin use one TLS connection", async () => {
        const { transport } = await setup();
        for (let i = 0; i < 100; i++) {
          const response = await transport.send(get(`${main.origin}/echo`, { clientIdentity: identityA }));
          expect(response.status).toBe(200);
        }
        expect(main.requests).toHaveLength(100);
        expect(main.connections).toBe(1);
      });

      if (supportsIdentityBound) {
        it("beyond maxIdentities, closes the least recently used identity's connections", async () => {
          const { transport } = await setup({ maxIdentities: 1 });
          await transport.send(get(`${main.origin}/echo`, { clientIdentity: identityA }));
          await transport.send(get(`${main.origin}/echo`, { clientIdentity: identityB }));
          // A's pool was evicted and closed: only B's connection stays open.
          await main.waitForOpenConnections(1);
          await transport.send(get(`${main.origin}/echo`, { clientIdentity: identityA }));
          expect(main.connections).toBe(3);
          expect(main.requests.map((r) => r.clientX5tS256)).toEqual([
            identityA.x5tS256,
            identityB.x5tS256,
            identityA.x5tS256,
          ]);
        });
      } else {
        it("declares no identity bound: offered one anyway, it still never mixes identities", async () => {
          const { transport } = await setup({ maxIdentities: 1 });
          for (const identity of [identityA, identityB, identityA]) {
            await transport.send(get(`${main.origin}/echo`, { clientIdentity: identity }));
          }
          expect(main.requests.map((r) => r.clientX5tS256)).toEqual([
            identityA.x5tS256,
            identityB.x5tS256,
            identityA.x5tS256,
          ]);
          expectOneCertificatePerConnection();
        });
      }

      function expectOneCertificatePerConnection() {
        const byConnection = new Map<number, Set<string | undefined>>();
        for (const r of main.requests) {
          const seen = byConnection.get(r.connectionId) ?? new Set();
          seen.add(r.clientX5tS256);
          byConnection.set(r.connectionId, seen);
        }
        for (const seen of byConnection.values()) expect(seen.size).toBe(1);
      }
    });

    describe("TLS failures", () => {
      it("an untrusted server certificate is tls_handshake_failed, and nothing is sent", async () => {
        const { transport } = await setup();
        await expectFailure(transport.send(get(`${main.origin}/echo`, { ca: undefined })), [
          "tls_handshake_failed",
        ]);
        expect(main.requests).toHaveLength(0);
      });

      it("a server certificate for another host name is tls_handshake_failed", async () => {
        const { transport } = await setup();
        await expectFailure(transport.send(get(`https://wrong-name.example.test:${main.port}/echo`)), [
          "tls_handshake_failed",
        ]);
        expect(main.requests).toHaveLength(0);
      });

      it("a server that requires a client certificate and gets none: tls_handshake_failed", async () => {
        const { transport } = await setup();
        await expectFailure(transport.send(get(`${strict.origin}/echo`)), ["tls_handshake_failed"]);
        expect(strict.requests).toHaveLength(0);
      });

      it("a server that rejects the client certificate: tls_handshake_failed, or a network error naming the certificate", async () => {
        const { transport } = await setup();
        // Node's TLS server drops such a connection after the handshake instead of sending an
        // alert, so a client cannot always tell it from a reset; it must then say what to check.
        const error = await expectFailure(
          transport.send(get(`${strict.origin}/echo`, { clientIdentity: foreignIdentity })),
          ["tls_handshake_failed", "network_error"],
        );
        if (error.code === "network_error") expect(error.message).toMatch(/client certificate/i);
        expect(strict.requests).toHaveLength(0);
        // The same transport still works with an accepted certificate.
        const ok = await transport.send(get(`${strict.origin}/echo`, { clientIdentity: identityA }));
        expect(ok.status).toBe(200);
      });

      it("a client key that does not belong to its certificate is tls_handshake_failed, and nothing is sent", async () => {
        const { transport } = await setup();
        const mismatched = { ...identityA, privateKey: identityB.privateKey };
        await expectFailure(transport.send(get(`${main.origin}/echo`, { clientIdentity: mismatched })), [
          "tls_handshake_failed",
        ]);
        expect(main.requests).toHaveLength(0);
      });
    });

    describe("server pinning (pinnedServerThumbprint)", () => {
      const sha256 = () => main.certificate.certificate.fingerprint256.replaceAll(":", "").toLowerCase();

      it("a matching SHA-256 pin succeeds although the server's CA is not trusted", async () => {
        const { transport } = await setup();
        const response = await transport.send(
          get(`${main.origin}/echo`, { ca: undefined, pinnedServerThumbprint: sha256() }),
        );
        expect(response.status).toBe(200);
      });

      it("a matching SHA-1 pin in upper case with colons succeeds (Service Fabric's form)", async () => {
        const { transport } = await setup();
        const sha1 = main.certificate.certificate.fingerprint;
        expect(sha1).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
        const response = await transport.send(
          get(`${main.origin}/echo`, {
            ca: undefined,
            pinnedServerThumbprint: sha1,
            clientIdentity: identityA,
          }),
        );
        expect(response.status).toBe(200);
        expect(main.requests[0]?.clientX5tS256).toBe(identityA.x5tS256);
      });

      it("a wrong pin is tls_handshake_failed even for a trusted server, before anything is sent", async () => {
        const { transport } = await setup();
        const wrong = identityA.certificate.fingerprint256;
        await expectFailure(transport.send(get(`${main.origin}/echo`, { pinnedServerThumbprint: wrong })), [
          "tls_handshake_failed",
        ]);
        expect(main.requests).toHaveLength(0);
      });

      it("a malformed pin is tls_handshake_failed naming the expected form, before any connection", async () => {
        const { transport } = await setup();
        const error = await expectFailure(
          transport.send(get(`${main.origin}/echo`, { pinnedServerThumbprint: "abc" })),
          ["tls_handshake_failed"],
        );
        expect(error.message).toMatch(/40 .*64/);
        expect(main.connections).toBe(0);
      });

      it("a pinned request never reuses a connection that was verified another way", async () => {
        const { transport } = await setup();
        await transport.send(get(`${main.origin}/echo`));
        const wrong = identityB.certificate.fingerprint;
        await expectFailure(transport.send(get(`${main.origin}/echo`, { pinnedServerThumbprint: wrong })), [
          "tls_handshake_failed",
        ]);
        expect(main.requests).toHaveLength(1);
      });
    });

    describe("abort and timeout", () => {
      it("an already aborted signal is aborted, and nothing is sent", async () => {
        const { transport } = await setup();
        const controller = new AbortController();
        controller.abort();
        await expectFailure(transport.send(get(`${main.origin}/echo`, { signal: controller.signal })), [
          "aborted",
        ]);
        expect(main.requests).toHaveLength(0);
      });

      it("aborting while the server holds the request is aborted", async () => {
        const { transport } = await setup();
        const controller = new AbortController();
        const pending = transport.send(
          get(`${main.origin}/hang`, { signal: controller.signal, clientIdentity: identityA }),
        );
        const result = settle(pending);
        await main.waitForRequest("/hang");
        controller.abort();
        await expectFailure(pending, ["aborted"]);
        expect(result.settled()).toBe(true);
      });

      it("aborting while the body streams is aborted", async () => {
        const { transport } = await setup();
        const controller = new AbortController();
        const flushed = new Promise<void>((resolve) => partialFlushed.push(resolve));
        const pending = transport.send(get(`${main.origin}/hang-body`, { signal: controller.signal }));
        settle(pending);
        await flushed;
        controller.abort();
        await expectFailure(pending, ["aborted"]);
      });

      it("timeoutMs fires on the injected clock while the server holds the request", async () => {
        const { transport, clock } = await setup();
        const pending = transport.send(get(`${main.origin}/hang`, { timeoutMs: 5000 }));
        const result = settle(pending);
        await main.waitForRequest("/hang");
        expect(clock.pending, "the transport must wait for timeoutMs on the injected clock").toBeGreaterThan(
          0,
        );
        await clock.advance(4999);
        await tick();
        expect(result.settled(), "the timeout fired early").toBe(false);
        await clock.advance(1);
        await expectFailure(pending, ["timeout"]);
      });

      it("timeoutMs covers a TLS handshake that never completes", async () => {
        const { transport, clock } = await setup();
        const pending = transport.send(get(`https://127.0.0.1:${stall.port}/`, { timeoutMs: 3000 }));
        settle(pending);
        await stall.waitForConnection();
        await clock.advance(3000);
        await expectFailure(pending, ["timeout"]);
      });

      it("timeoutMs covers a body that stops arriving", async () => {
        const { transport, clock } = await setup();
        const flushed = new Promise<void>((resolve) => partialFlushed.push(resolve));
        const pending = transport.send(get(`${main.origin}/hang-body`, { timeoutMs: 2000 }));
        settle(pending);
        await flushed;
        await clock.advance(2000);
        await expectFailure(pending, ["timeout"]);
      });

      it("a request that completes cancels its timeout wait", async () => {
        const { transport, clock } = await setup();
        await transport.send(get(`${main.origin}/echo`, { timeoutMs: 60_000 }));
        expect(clock.pending).toBe(0);
      });
    });

    describe("network failures", () => {
      it("a connection reset mid-body is network_error", async () => {
        const { transport } = await setup();
        await expectFailure(transport.send(get(`${main.origin}/reset-mid-body`)), ["network_error"]);
      });

      it("a server that closes without answering is network_error", async () => {
        const { transport } = await setup();
        await expectFailure(transport.send(get(`${main.origin}/close-without-answer`)), ["network_error"]);
      });

      it("a refused connection is network_error", async () => {
        const { transport } = await setup();
        const closedPort = await freePort();
        await expectFailure(transport.send(get(`https://127.0.0.1:${closedPort}/`)), ["network_error"]);
      });

      it("an error names the endpoint but not the query string, which may hold identifiers", async () => {
        const { transport } = await setup();
        const closedPort = await freePort();
        const endpoint = `https://127.0.0.1:${closedPort}/token`;
        const error = await expectFailure(transport.send(get(`${endpoint}?client_id=0f4c-secret-id`)), [
          "network_error",
        ]);
        expect(error.message).toContain(endpoint);
        expect(error.message).not.toContain("0f4c-secret-id");
      });
    });

    describe("response size cap", () => {
      it(`accepts a body of exactly ${DEFAULT_MAX_RESPONSE_BYTES} bytes (the default cap)`, async () => {
        const { transport } = await setup();
        const response = await transport.send(get(`${main.origin}/bytes?n=${DEFAULT_MAX_RESPONSE_BYTES}`));
        expect(response.body.length).toBe(DEFAULT_MAX_RESPONSE_BYTES);
      });

      it("a declared length over the cap is response_too_large", async () => {
        const { transport } = await setup();
        await expectFailure(transport.send(get(`${main.origin}/bytes?n=${DEFAULT_MAX_RESPONSE_BYTES + 1}`)), [
          "response_too_large",
        ]);
      });

      it("a chunked body over the cap is response_too_large, and the transport still works", async () => {
        const { transport } = await setup();
        await expectFailure(
          transport.send(get(`${main.origin}/bytes?n=${DEFAULT_MAX_RESPONSE_BYTES + 1}&chunked=1`)),
          ["response_too_large"],
        );
        const next = await transport.send(get(`${main.origin}/echo`));
        expect(next.status).toBe(200);
      });
    });

    describe("lifecycle", () => {
      it("close() closes every pooled connection", async () => {
        const { transport } = await setup();
        expect(typeof transport.close, "a pooling transport must offer close()").toBe("function");
        await transport.send(get(`${main.origin}/echo`, { clientIdentity: identityA }));
        await transport.send(get(`${main.origin}/echo`, { clientIdentity: identityB }));
        await transport.send(get(`${main.origin}/echo`));
        await transport.send(get(`${plain.origin}/echo`));
        expect(main.openConnections).toBe(3);
        opened = opened.filter((t) => t !== transport);
        await transport.close?.();
        await Promise.all([main.waitForIdle(), plain.waitForIdle()]);
        expect(main.openConnections + plain.openConnections).toBe(0);
      });

      it("close() with a request in flight ends it with network_error saying the transport is closed", async () => {
        const { transport } = await setup();
        expect(typeof transport.close, "a pooling transport must offer close()").toBe("function");
        opened = opened.filter((t) => t !== transport);
        const pending = transport.send(get(`${main.origin}/hang`, { clientIdentity: identityA }));
        settle(pending);
        await main.waitForRequest("/hang");
        await transport.close?.();
        const error = await expectFailure(pending, ["network_error"]);
        expect(error.message).toMatch(/transport is closed/);
      });

      it("a request after close() is network_error, and nothing is sent", async () => {
        const { transport } = await setup();
        expect(typeof transport.close, "a pooling transport must offer close()").toBe("function");
        opened = opened.filter((t) => t !== transport);
        await transport.close?.();
        await expectFailure(transport.send(get(`${main.origin}/echo`)), ["network_error"]);
        expect(main.connections).toBe(0);
      });
    });

    describe("proxy", () => {
      if (!supportsProxy) {
        it("declares no proxy support: requests that allow a proxy go direct", async () => {
          const { transport } = await setup({ proxy: { httpsProxy: proxy.url, httpProxy: proxy.url } });
          const response = await transport.send(
            get(`https://api.example.test:${main.port}/echo`, { proxy: "environment" }),
          );
          expect(response.status).toBe(200);
          expect(proxy.tunnels).toHaveLength(0);
        });
        return;
      }

      const env = () => ({ httpsProxy: proxy.url, httpProxy: proxy.url });

      it("sends a public host name through the proxy, with the client certificate end to end", async () => {
        const { transport } = await setup({ proxy: env() });
        const response = await transport.send(
          get(`https://api.example.test:${main.port}/echo`, {
            proxy: "environment",
            clientIdentity: identityA,
          }),
        );
        expect(response.status).toBe(200);
        expect(proxy.tunnels.map((t) => t.authority)).toEqual([`api.example.test:${main.port}`]);
        expect(main.requests[0]?.clientX5tS256).toBe(identityA.x5tS256);
      });

      it("sends plain HTTP to a public host name through the proxy", async () => {
        const { transport } = await setup({ proxy: env() });
        const response = await transport.send(
          get(`http://api.example.test:${plain.port}/echo`, { proxy: "environment" }),
        );
        expect(response.status).toBe(200);
        expect(proxy.tunnels.map((t) => t.authority)).toEqual([`api.example.test:${plain.port}`]);
      });

      it('goes direct when the request says proxy: "never" (or nothing)', async () => {
        const { transport, lookup } = await setup({ proxy: env() });
        await transport.send(get(`https://api.example.test:${main.port}/echo`, { proxy: "never" }));
        await transport.send(get(`https://api.example.test:${main.port}/echo`));
        expect(proxy.tunnels).toHaveLength(0);
        expect(lookup.queries).toContain("api.example.test");
        expect(main.requests).toHaveLength(2);
      });

      it("never proxies loopback destinations (127.0.0.0/8, localhost)", async () => {
        const { transport } = await setup({ proxy: env() });
        await transport.send(get(`${main.origin}/echo`, { proxy: "environment" }));
        await transport.send(get(`https://localhost:${main.port}/echo`, { proxy: "environment" }));
        await transport.send(get(`${plain.origin}/echo`, { proxy: "environment" }));
        expect(proxy.tunnels).toHaveLength(0);
        expect(main.requests).toHaveLength(2);
      });

      it("honours NO_PROXY (domain suffix, leading dot, host:port)", async () => {
        for (const noProxy of [
          "example.test",
          ".example.test",
          `other.test, api.example.test:${main.port}`,
        ]) {
          const { transport } = await setup({ proxy: { ...env(), noProxy } });
          await transport.send(get(`https://api.example.test:${main.port}/echo`, { proxy: "environment" }));
        }
        expect(proxy.tunnels).toHaveLength(0);
        const { transport } = await setup({ proxy: { ...env(), noProxy: `api.example.test:1, other.test` } });
        await transport.send(get(`https://api.example.test:${main.port}/echo`, { proxy: "environment" }));
        expect(proxy.tunnels).toHaveLength(1);
      });

      it("sends credentials from the proxy URL as Proxy-Authorization, and never puts them in errors", async () => {
        const password = "p%40ss-w0rd";
        const { transport } = await setup({
          proxy: { httpsProxy: `http://user:${password}@127.0.0.1:${authProxy.port}` },
        });
        const error = await expectFailure(
          transport.send(get(`https://api.example.test:${main.port}/echo`, { proxy: "environment" })),
          ["network_error"],
        );
        const basic = Buffer.from("user:p@ss-w0rd").toString("base64");
        expect(authProxy.tunnels.map((t) => t.proxyAuthorization)).toEqual([`Basic ${basic}`]);
        const everything = inspect(error, { depth: 8 });
        for (const leak of ["w0rd", basic]) expect(everything).not.toContain(leak);
        expect(main.requests).toHaveLength(0);
      });

      it("sends a pinned request direct even when it allows a proxy", async () => {
        const { transport } = await setup({ proxy: env() });
        const response = await transport.send(
          get(`https://api.example.test:${main.port}/echo`, {
            proxy: "environment",
            pinnedServerThumbprint: main.certificate.certificate.fingerprint256,
            ca: undefined,
          }),
        );
        expect(response.status).toBe(200);
        expect(proxy.tunnels).toHaveLength(0);
      });

      it("keeps tunnelled and direct connections of one identity apart", async () => {
        const { transport } = await setup({ proxy: env() });
        const url = `https://api.example.test:${main.port}/echo`;
        await transport.send(get(url, { proxy: "environment", clientIdentity: identityA }));
        await transport.send(get(url, { proxy: "never", clientIdentity: identityA }));
        await transport.send(get(url, { proxy: "environment", clientIdentity: identityA }));
        expect(proxy.tunnels).toHaveLength(1);
        const [viaProxy, direct, again] = main.requests;
        expect(main.requests.map((r) => r.clientX5tS256)).toEqual(Array(3).fill(identityA.x5tS256));
        expect(direct?.connectionId).not.toBe(viaProxy?.connectionId);
        expect(again?.connectionId).toBe(viaProxy?.connectionId);
      });

      it("a proxy that refuses the tunnel is network_error", async () => {
        const { transport } = await setup({ proxy: { httpsProxy: refusingProxy.url } });
        await expectFailure(
          transport.send(get(`https://api.example.test:${main.port}/echo`, { proxy: "environment" })),
          ["network_error"],
        );
        expect(refusingProxy.tunnels).toHaveLength(1);
        expect(main.requests).toHaveLength(0);
      });
    });
  });
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
