import { Agent as HttpAgent, type AgentOptions as HttpAgentOptions } from "node:http";
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions } from "node:https";
import type { LookupFunction, Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { SecureContext, TLSSocket } from "node:tls";
import { matchesPin, openTunnel, pinMismatch } from "@certbound/core/transport-kit";

/** How an agent reaches its servers. */
export interface Route {
  /** Tunnel every connection through this proxy (CONNECT); direct when absent. */
  readonly proxy?: URL | undefined;
  /** Trust for an `https://` proxy. */
  readonly proxySecureContext?: SecureContext | undefined;
  readonly lookup?: LookupFunction | undefined;
  /** Budget for TCP connect, CONNECT and TLS handshake. */
  readonly connectTimeoutMs: number;
}

type ConnectionOptions = Parameters<HttpAgent["createConnection"]>[0];
type ConnectionCallback = (error: Error | null, stream: Duplex) => void;

/** Tracks connections still being set up, so that destroying the agent closes them. */
class Connecting {
  readonly #pending = new Set<{ destroy(): void }>();
  add<T extends { destroy(): void }>(item: T): T {
    this.#pending.add(item);
    return item;
  }
  delete(item: { destroy(): void }): void {
    this.#pending.delete(item);
  }
  destroyAll(): void {
    for (const item of this.#pending) item.destroy();
    this.#pending.clear();
  }

  /**
   * Opens a CONNECT tunnel through `proxy` to the target of `options` (tracked until it is open)
   * and hands it to `use`; a failure goes to `callback`.
   */
  tunnel(
    proxy: URL,
    route: Route,
    options: ConnectionOptions,
    defaultPort: number,
    callback: ConnectionCallback,
    use: (tunnel: Socket) => void,
  ): void {
    const cancel = new AbortController();
    const pending = this.add({ destroy: () => cancel.abort() });
    const host = bracket(String(options.host ?? options.hostname ?? "localhost"));
    openTunnel(proxy, `${host}:${Number(options.port) || defaultPort}`, {
      secureContext: route.proxySecureContext,
      lookup: route.lookup,
      timeoutMs: route.connectTimeoutMs,
      signal: cancel.signal,
    }).then(
      (tunnel) => {
        this.delete(pending);
        use(tunnel);
      },
      (error: Error) => {
        this.delete(pending);
        callback(error, undefined as unknown as Duplex);
      },
    );
  }
}

/**
 * Fails a connection that is not ready within `ms` (a silent server must not hold a socket
 * forever), then gets out of the way. A timer, not `socket.setTimeout`, which the request uses for
 * its own idle timeout.
 */
function connectDeadline(socket: Socket, ms: number, readyEvent: "connect" | "secureConnect"): void {
  const timer = setTimeout(
    () =>
      socket.destroy(Object.assign(new Error(`Connection not ready within ${ms} ms`), { code: "ETIMEDOUT" })),
    ms,
  );
  timer.unref();
  const clear = () => clearTimeout(timer);
  socket.once(readyEvent, clear);
  socket.once("close", clear);
}

/**
 * The https.Agent of one client identity under one trust setting and one route. Its connections
 * all present that identity's certificate (the secure context holds it), so no connection ever
 * crosses identities. With a pin, the server certificate is checked on every new connection
 * before the socket is handed to the request: no byte of the request reaches an unverified server.
 */
export class IdentityHttpsAgent extends HttpsAgent {
  readonly #pin: string | undefined;
  readonly #route: Route;
  readonly #connecting = new Connecting();

  constructor(
    options: HttpsAgentOptions & { secureContext: SecureContext },
    pin: string | undefined,
    route: Route,
  ) {
    // A host name check of the caller's (or a fixed servername) would let a certificate for one
    // host pass for another: verification is the transport's, whatever agentOptions say.
    const { checkServerIdentity: _check, servername: _servername, ...agentOptions } = options;
    super({
      keepAlive: true,
      ...agentOptions,
      ...(route.lookup && !route.proxy ? { lookup: route.lookup } : {}),
      // With a pin the CA chain is not what is trusted (Service Fabric's certificate is
      // self-signed): the pin check replaces it, on every connection.
      rejectUnauthorized: pin === undefined,
      ...(pin ? { maxCachedSessions: 0 } : {}),
    });
    this.#pin = pin;
    this.#route = route;
  }

  override createConnection(options: ConnectionOptions, callback?: ConnectionCallback): Duplex {
    const { proxy } = this.#route;
    if (!proxy || !callback) return this.#handshake(options, callback);
    this.#connecting.tunnel(proxy, this.#route, options, 443, callback, (tunnel) => {
      const socket = this.#handshake({ ...options, socket: tunnel } as ConnectionOptions, callback);
      if (socket) callback(null, socket);
    });
    // Node's Agent waits for the callback when nothing is returned.
    return undefined as unknown as Duplex;
  }

  override destroy(): void {
    this.#connecting.destroyAll();
    super.destroy();
  }

  /**
   * Starts TLS. Returns the socket at once when there is no pin; with a pin returns nothing and
   * hands the socket to `callback` only after the server certificate matched it.
   */
  #handshake(options: ConnectionOptions, callback: ConnectionCallback | undefined): Duplex {
    const socket = super.createConnection(options) as TLSSocket;
    connectDeadline(socket, this.#route.connectTimeoutMs, "secureConnect");
    const pin = this.#pin;
    if (pin === undefined || !callback) return socket;
    this.#connecting.add(socket);
    const onError = (error: Error) => {
      this.#connecting.delete(socket);
      callback(error, socket);
    };
    socket.once("error", onError);
    socket.once("secureConnect", () => {
      this.#connecting.delete(socket);
      socket.off("error", onError);
      if (matchesPin(socket, pin)) {
        callback(null, socket);
        return;
      }
      socket.destroy();
      callback(pinMismatch(), socket);
    });
    return undefined as unknown as Duplex;
  }
}

/** The http.Agent for plain `http:` requests on one route (direct, or tunnelled through a proxy). */
export class RouteHttpAgent extends HttpAgent {
  readonly #route: Route;
  readonly #connecting = new Connecting();

  constructor(options: HttpAgentOptions, route: Route) {
    super({ keepAlive: true, ...options, ...(route.lookup && !route.proxy ? { lookup: route.lookup } : {}) });
    this.#route = route;
  }

  override createConnection(options: ConnectionOptions, callback?: ConnectionCallback): Duplex {
    const { proxy } = this.#route;
    if (!proxy || !callback) {
      const socket = super.createConnection(options) as Socket;
      connectDeadline(socket, this.#route.connectTimeoutMs, "connect");
      return socket;
    }
    this.#connecting.tunnel(proxy, this.#route, options, 80, callback, (tunnel) => callback(null, tunnel));
    return undefined as unknown as Duplex;
  }

  override destroy(): void {
    this.#connecting.destroyAll();
    super.destroy();
  }
}

/**
 * Stops reusing an agent's connections without cutting requests in flight: idle sockets close now,
 * busy ones as soon as their request is done. Used when an identity is evicted from the LRU.
 */
export function retire(agent: HttpAgent): void {
  agent.on("free", (socket: Socket) => socket.destroy());
  for (const sockets of Object.values(agent.freeSockets)) {
    for (const socket of sockets ?? []) socket.destroy();
  }
}

function bracket(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}
