import type { HttpRequest, HttpTransport } from "@certbound/core";
import {
  type CertificateAuthority,
  createCertificateAuthority,
  type IssuedCertificate,
} from "@certbound/core/credential-kit";
import { afterAll, afterEach, beforeAll } from "vitest";
import { type ConnectProxy, startConnectProxy } from "./connect-proxy";
import { type HttpsTestServer, startHttpsTestServer, type TestRequestHandler } from "./test-server";

/**
 * Options of {@link useTransportTestbed}.
 *
 * @public
 */
export interface TransportTestbedOptions {
  /** Answers the HTTPS server's requests. By default every request gets 200 with the body `ok`. */
  readonly handler?: TestRequestHandler;
}

/**
 * What {@link useTransportTestbed} started for a test file. Read the fields inside tests or hooks:
 * they are set in `beforeAll`.
 * @public
 */
export interface TransportTestbed {
  /** The CA that issued the server's certificate and both identities. */
  readonly ca: CertificateAuthority;
  /** A client identity issued by {@link TransportTestbed.ca}. */
  readonly identityA: IssuedCertificate;
  /** A second client identity issued by {@link TransportTestbed.ca}. */
  readonly identityB: IssuedCertificate;
  /** An HTTPS server on 127.0.0.1 that asks for client certificates; reset after each test. */
  readonly server: HttpsTestServer;
  /** A CONNECT proxy on 127.0.0.1; reset after each test. */
  readonly proxy: ConnectProxy;
  /** Closes `transport` after the current test, then waits for the server to see every socket go. */
  track<T extends HttpTransport>(transport: T): T;
  /** A GET of `url` that trusts {@link TransportTestbed.ca}, with `extra` on top. */
  get(url: string, extra?: Partial<HttpRequest>): HttpRequest;
  /** The error `promise` rejects with; throws when it resolves instead. */
  rejection(promise: Promise<unknown>): Promise<Error & { code: string }>;
}

/**
 * The fixture for a transport adapter's own tests (what `testHttpTransport` does not cover: its
 * options, pools, hooks into its HTTP client). Call it once at the top level of a vitest file: it
 * registers hooks that start an HTTPS server and a CONNECT proxy with a CA and two client
 * identities made at run time, close every tracked transport after each test (and wait until the
 * server holds no socket), reset the recordings, and stop everything at the end.
 *
 * @public
 * @example
 * ```ts
 * import { createTestClock, useTransportTestbed } from "@certbound/testing";
 *
 * const bed = useTransportTestbed();
 * const make = () => bed.track(createMyTransport({ clock: createTestClock({ autoAdvance: false }) }));
 *
 * it("presents the identity's certificate", async () => {
 *   await make().send(bed.get(`${bed.server.origin}/`, { clientIdentity: bed.identityA }));
 *   expect(bed.server.requests[0]?.clientX5tS256).toBe(bed.identityA.x5tS256);
 * });
 * ```
 */
export function useTransportTestbed(options: TransportTestbedOptions = {}): TransportTestbed {
  const handler: TestRequestHandler =
    options.handler ??
    ((_req, res) => {
      res.end("ok");
    });
  let started: Omit<TransportTestbed, "track" | "get" | "rejection"> | undefined;
  let tracked: HttpTransport[] = [];
  const ready = () => {
    if (!started) throw new Error("useTransportTestbed: read the testbed inside tests or hooks");
    return started;
  };

  beforeAll(async () => {
    const ca = createCertificateAuthority();
    const [server, proxy] = await Promise.all([
      startHttpsTestServer({ authority: ca, handler }),
      startConnectProxy(),
    ]);
    started = {
      ca,
      identityA: ca.issue({ commonName: "A" }),
      identityB: ca.issue({ commonName: "B" }),
      server,
      proxy,
    };
  });

  afterEach(async () => {
    const transports = tracked;
    tracked = [];
    await Promise.all(transports.map((transport) => transport.close?.()));
    const { server, proxy } = ready();
    // A transport without close() cannot let go of its sockets: waiting would only time out.
    if (transports.every((transport) => typeof transport.close === "function")) await server.waitForIdle();
    server.reset();
    proxy.reset();
  });

  afterAll(async () => {
    await Promise.all([started?.server.close(), started?.proxy.close()]);
  });

  return {
    get ca() {
      return ready().ca;
    },
    get identityA() {
      return ready().identityA;
    },
    get identityB() {
      return ready().identityB;
    },
    get server() {
      return ready().server;
    },
    get proxy() {
      return ready().proxy;
    },
    track(transport) {
      tracked.push(transport);
      return transport;
    },
    get(url, extra = {}) {
      return { method: "GET", url, headers: {}, ca: ready().ca.certificatePem, ...extra };
    },
    async rejection(promise) {
      const outcome = await promise.then(
        () => undefined,
        (error: unknown) => ({ error: error as Error & { code: string } }),
      );
      if (!outcome) throw new Error("expected a rejection");
      return outcome.error;
    },
  };
}
