import { createServer, request as httpRequest, type IncomingMessage } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";

/**
 * One request the proxy received.
 *
 * @public
 */
export interface ProxyTunnel {
  /** `connect` for a CONNECT tunnel, `forward` for an absolute-form plain HTTP request. */
  readonly kind: "connect" | "forward";
  /** The requested authority: `host:port`. */
  readonly authority: string;
  /** The `proxy-authorization` header, when the client sent one. */
  readonly proxyAuthorization: string | undefined;
}

/**
 * Options of {@link startConnectProxy}.
 *
 * @public
 */
export interface ConnectProxyOptions {
  /**
   * Answer every CONNECT with this status instead of opening a tunnel (e.g. 403 to test a proxy
   * that refuses, 407 for one that wants credentials).
   */
  refuseWith?: number;
}

/**
 * A tiny HTTP CONNECT proxy for tests.
 *
 * @public
 */
export interface ConnectProxy {
  /** `http://127.0.0.1:<port>`: use it as `HTTPS_PROXY` / `HTTP_PROXY`. */
  readonly url: string;
  readonly port: number;
  /** Every CONNECT and forwarded request since the last reset, in order. */
  readonly tunnels: readonly ProxyTunnel[];
  /** Tunnels (client side) open right now. */
  readonly openTunnels: number;
  reset(): void;
  /** Destroys every tunnel and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts an HTTP proxy on 127.0.0.1 that opens CONNECT tunnels and forwards absolute-form plain
 * HTTP requests, recording each. Whatever host a client asks for, the proxy connects to
 * **127.0.0.1** at the requested port: tests use public-looking names (`api.example.test`) that
 * never leave the machine.
 *
 * @public
 * @example
 * ```ts
 * const proxy = await startConnectProxy();
 * const transport = createUndiciTransport({ proxy: { httpsProxy: proxy.url }, lookup });
 * await transport.send({ method: "GET", url: `https://api.example.test:${port}/`, headers: {}, proxy: "environment", ca });
 * expect(proxy.tunnels.map((t) => t.authority)).toEqual([`api.example.test:${port}`]);
 * ```
 */
export async function startConnectProxy(options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  const sockets = new Set<Socket>();
  let tunnels: ProxyTunnel[] = [];
  let open = 0;
  const server = createServer((req, res) => {
    let target: URL;
    try {
      target = new URL(req.url ?? "");
    } catch {
      res.writeHead(400).end("absolute-form request expected");
      return;
    }
    const port = Number(target.port || 80);
    tunnels.push({
      kind: "forward",
      authority: `${target.hostname}:${port}`,
      proxyAuthorization: req.headers["proxy-authorization"],
    });
    if (options.refuseWith !== undefined) {
      res.writeHead(options.refuseWith).end();
      return;
    }
    const headers = { ...req.headers };
    delete headers["proxy-authorization"];
    delete headers["proxy-connection"];
    // One upstream connection per forwarded request, closed after it: nothing lingers on the target.
    delete headers.connection;
    delete headers["keep-alive"];
    const upstream = httpRequest(
      {
        host: "127.0.0.1",
        port,
        method: req.method,
        path: `${target.pathname}${target.search}`,
        headers,
        agent: false,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
    const authority = req.url ?? "";
    tunnels.push({ kind: "connect", authority, proxyAuthorization: req.headers["proxy-authorization"] });
    client.on("error", () => {});
    if (options.refuseWith !== undefined) {
      client.end(`HTTP/1.1 ${options.refuseWith} Refused by test proxy\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const port = Number(authority.slice(authority.lastIndexOf(":") + 1));
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      client.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const upstream = connect({ host: "127.0.0.1", port });
    sockets.add(upstream);
    open++;
    const finish = () => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on("error", finish);
    upstream.on("close", () => {
      sockets.delete(upstream);
      finish();
    });
    client.on("close", () => {
      open--;
      finish();
    });
    upstream.on("connect", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get tunnels() {
      return tunnels;
    },
    get openTunnels() {
      return open;
    },
    reset() {
      tunnels = [];
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}
