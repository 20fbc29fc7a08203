import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import {
  type AddressInfo,
  createServer as createNetServer,
  type Server as NetServer,
  type Socket,
} from "node:net";
import type { TLSSocket } from "node:tls";
import { type CertificateAuthority, type IssuedCertificate, x5tS256 } from "@certbound/core/credential-kit";

/**
 * What a test server saw of one request.
 *
 * @public
 */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly path: string;
  /** Header names in lower case; repeated headers as Node joins them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The request body, decoded as UTF-8. */
  readonly body: string;
  /** `x5t#S256` of the client certificate presented on the connection; `undefined` when none was. */
  readonly clientX5tS256: string | undefined;
  /** Whether the presented client certificate chains to the server's `clientCa`. */
  readonly clientAuthorized: boolean;
  /** 1-based number of the connection the request arrived on (unique per server, never reused). */
  readonly connectionId: number;
}

/**
 * Answers one request. The request body has already been read and is in `recorded.body`; answer
 * through `response`, or leave it hanging (the server destroys every socket on `close()`).
 * @public
 */
export type TestRequestHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  recorded: RecordedRequest,
) => void | Promise<void>;

/**
 * A local HTTP or HTTPS server that records what it sees.
 *
 * @public
 */
export interface TestServer {
  /** `https://127.0.0.1:<port>` or `http://127.0.0.1:<port>`. */
  readonly origin: string;
  readonly port: number;
  /** Every request since the last {@link TestServer.reset}, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  /** Connections accepted since the last reset: completed TLS handshakes for HTTPS, TCP for HTTP. */
  readonly connections: number;
  /** TCP connections open right now (including ones still in, or failed in, the TLS handshake). */
  readonly openConnections: number;
  /** Client-side TLS failures the server observed (`tlsClientError`), since the last reset. */
  readonly tlsClientErrors: number;
  /**
   * Resolves with the first request (already recorded or still to come) whose path starts with
   * `pathPrefix`. Await this instead of a timer before aborting a request that the server holds.
   */
  waitForRequest(pathPrefix?: string): Promise<RecordedRequest>;
  /** Resolves once no TCP connection is open (use after a transport's `close()`). */
  waitForIdle(): Promise<void>;
  /** Resolves once at most `count` TCP connections are open (e.g. after a pool was evicted). */
  waitForOpenConnections(count: number): Promise<void>;
  /** Forgets recorded requests and counters (open connections are still tracked). */
  reset(): void;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

/**
 * Options of {@link startHttpsTestServer}.
 *
 * @public
 */
export interface HttpsTestServerOptions {
  /** Issues the server certificate. */
  authority: CertificateAuthority;
  /** @default ["localhost", "127.0.0.1", "::1", "api.example.test"] */
  subjectAltNames?: readonly string[];
  /** CAs the server checks client certificates against. @default the `authority` */
  clientCa?: string | readonly string[];
  /**
   * Refuse clients without a certificate from `clientCa`, as a strict mTLS endpoint does. When false
   * (the default), any client is accepted and what it presented is recorded.
   * @default false
   */
  requireTrustedClientCertificate?: boolean;
  handler: TestRequestHandler;
}

/**
 * An HTTPS test server, with the certificate it presents.
 *
 * @public
 */
export interface HttpsTestServer extends TestServer {
  /** The server's certificate: pin it, or build wrong pins next to it. */
  readonly certificate: IssuedCertificate;
}

/**
 * Starts an HTTPS server on 127.0.0.1 (random port) that asks for a client certificate, counts TLS
 * handshakes, and records for every request the presented certificate's `x5t#S256` and the
 * connection it came on. The basis of the transport conformance suite; reuse it for any mTLS test.
 *
 * @public
 * @example
 * ```ts
 * const ca = createCertificateAuthority();
 * const server = await startHttpsTestServer({ authority: ca, handler: (_req, res) => res.end("ok") });
 * await transport.send({ method: "GET", url: `${server.origin}/`, headers: {}, ca: ca.certificatePem, clientIdentity });
 * expect(server.requests[0]?.clientX5tS256).toBe(clientIdentity.x5tS256);
 * await server.close();
 * ```
 */
export async function startHttpsTestServer(options: HttpsTestServerOptions): Promise<HttpsTestServer> {
  const certificate = options.authority.issue({
    commonName: "certbound test server",
    subjectAltNames: options.subjectAltNames ?? ["localhost", "127.0.0.1", "::1", "api.example.test"],
    usage: "server",
  });
  const clientCa = options.clientCa ?? options.authority.certificatePem;
  const server = createHttpsServer({
    cert: certificate.certificatePem,
    key: certificate.privateKeyPem,
    requestCert: true,
    rejectUnauthorized: options.requireTrustedClientCertificate ?? false,
    ca: typeof clientCa === "string" ? clientCa : [...clientCa],
  });
  const tracked = await track(server, "https", options.handler, "secureConnection");
  return Object.assign(tracked, { certificate });
}

/**
 * Options of {@link startHttpTestServer}.
 *
 * @public
 */
export interface HttpTestServerOptions {
  handler: TestRequestHandler;
}

/**
 * Starts a plain HTTP server on 127.0.0.1 (random port) that records requests and counts
 * connections, like {@link startHttpsTestServer} without TLS (think IMDS).
 *
 * @public
 * @example
 * ```ts
 * const server = await startHttpTestServer({ handler: (_req, res) => res.end("{}") });
 * await transport.send({ method: "GET", url: `${server.origin}/metadata`, headers: {} });
 * await server.close();
 * ```
 */
export async function startHttpTestServer(options: HttpTestServerOptions): Promise<TestServer> {
  return track(createHttpServer(), "http", options.handler, "connection");
}

/**
 * Starts a TCP server on 127.0.0.1 that accepts connections and never sends a byte: a TLS
 * handshake against it stalls, which makes connect-phase timeouts testable without timers.
 *
 * @public
 * @example
 * ```ts
 * const stall = await startStallingServer();
 * const pending = transport.send({ method: "GET", url: `https://127.0.0.1:${stall.port}/`, headers: {}, timeoutMs: 1000 });
 * await stall.waitForConnection();
 * await clock.advance(1001); // pending rejects with "timeout"
 * ```
 */
export async function startStallingServer(): Promise<StallingServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const waiters: Array<() => void> = [];
  const idleWaiters: Array<() => void> = [];
  const server = createNetServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("error", () => {});
    // Read and drop what the client sends: a paused socket would never notice the client closing.
    socket.resume();
    socket.on("close", () => {
      sockets.delete(socket);
      if (sockets.size === 0) for (const wake of idleWaiters.splice(0)) wake();
    });
    for (const wake of waiters.splice(0)) wake();
  });
  await listen(server);
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    get connections() {
      return accepted;
    },
    get openConnections() {
      return sockets.size;
    },
    waitForConnection: () =>
      accepted > 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve)),
    waitForIdle: () =>
      sockets.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve)),
    close: () => closeServer(server, sockets),
  };
}

/**
 * A server that accepts TCP connections and stays silent.
 *
 * @public
 */
export interface StallingServer {
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  readonly openConnections: number;
  /** Resolves once at least one connection was accepted. */
  waitForConnection(): Promise<void>;
  /** Resolves once no connection is open. */
  waitForIdle(): Promise<void>;
  close(): Promise<void>;
}

async function track(
  server: NetServer & {
    on(event: "request", listener: (req: IncomingMessage, res: ServerResponse) => void): unknown;
  },
  scheme: "http" | "https",
  handler: TestRequestHandler,
  connectionEvent: "secureConnection" | "connection",
): Promise<TestServer> {
  const raw = new Set<Socket>();
  const connectionIds = new WeakMap<Socket, number>();
  let nextConnectionId = 1;
  let connections = 0;
  let tlsClientErrors = 0;
  let requests: RecordedRequest[] = [];
  let requestWaiters: Array<{ prefix: string; resolve: (r: RecordedRequest) => void }> = [];
  let closeWaiters: Array<{ count: number; resolve: () => void }> = [];
  const waitForOpenConnections = (count: number) =>
    raw.size <= count
      ? Promise.resolve()
      : new Promise<void>((resolve) => closeWaiters.push({ count, resolve }));

  server.on("connection", (socket: Socket) => {
    raw.add(socket);
    // A client that resets mid-request must not crash the test process.
    socket.on("error", () => {});
    socket.on("close", () => {
      raw.delete(socket);
      closeWaiters = closeWaiters.filter((waiter) => {
        if (raw.size > waiter.count) return true;
        waiter.resolve();
        return false;
      });
    });
  });
  server.on(connectionEvent, (socket: Socket) => {
    connections++;
    connectionIds.set(socket, nextConnectionId++);
  });
  server.on("tlsClientError", () => {
    tlsClientErrors++;
  });
  server.on("clientError", (_error: Error, socket: Socket) => socket.destroy());

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("error", () => {});
    req.on("end", () => {
      const socket = req.socket as TLSSocket;
      const peer = scheme === "https" ? socket.getPeerX509Certificate() : undefined;
      const recorded: RecordedRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: { ...req.headers },
        body: Buffer.concat(chunks).toString("utf8"),
        clientX5tS256: peer ? x5tS256(peer.raw) : undefined,
        clientAuthorized: scheme === "https" && socket.authorized === true,
        connectionId: connectionIds.get(socket) ?? 0,
      };
      requests.push(recorded);
      requestWaiters = requestWaiters.filter((waiter) => {
        if (!recorded.path.startsWith(waiter.prefix)) return true;
        waiter.resolve(recorded);
        return false;
      });
      Promise.resolve()
        .then(() => handler(req, res, recorded))
        .catch(() => {
          if (!res.headersSent) res.writeHead(500).end("test handler failed");
          else res.destroy();
        });
    });
  });

  await listen(server);
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `${scheme}://127.0.0.1:${port}`,
    port,
    get requests() {
      return requests;
    },
    get connections() {
      return connections;
    },
    get openConnections() {
      return raw.size;
    },
    get tlsClientErrors() {
      return tlsClientErrors;
    },
    waitForRequest(pathPrefix = "") {
      const seen = requests.find((r) => r.path.startsWith(pathPrefix));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => requestWaiters.push({ prefix: pathPrefix, resolve }));
    },
    waitForIdle: () => waitForOpenConnections(0),
    waitForOpenConnections,
    reset() {
      requests = [];
      connections = 0;
      tlsClientErrors = 0;
    },
    close: () => closeServer(server, raw),
  };
}

function listen(server: NetServer): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function closeServer(server: NetServer, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
  });
}
