import { isIP, type LookupFunction, type Socket } from "node:net";
import type { SecureContext, TLSSocket } from "node:tls";
import type { ClientTlsIdentity, ProxyPolicy } from "@certbound/core";
import {
  matchesPin,
  openTunnel,
  type ProxyRoutes,
  pinMismatch,
  poolSecureContext,
  proxyFor,
} from "@certbound/core/transport-kit";
import { Agent, buildConnector, type Dispatcher } from "undici";
import { PACKAGE } from "./package-name";

/** Everything a pool needs; fixed for the pool's life. */
export interface PoolSettings {
  readonly identity: ClientTlsIdentity | undefined;
  /** Extra trusted CAs (transport-wide and per request), on top of the system store. */
  readonly cas: readonly string[];
  /** Normalised server thumbprint; when set it replaces CA verification. */
  readonly pin: string | undefined;
  readonly lookup: LookupFunction | undefined;
  readonly connectTimeoutMs: number;
  readonly agentOptions: Omit<Agent.Options, "connect" | "factory">;
  readonly proxies: ProxyRoutes | undefined;
  /** Trust for `https://` proxies (system store plus the transport's `ca`). */
  readonly proxySecureContext: SecureContext | undefined;
}

/**
 * The connections of one client TLS identity under one trust setting: a direct undici Agent and,
 * when a proxy is configured, one Agent per proxy whose connections are CONNECT tunnels. Every
 * connection presents this identity's certificate (or none), so no connection ever crosses
 * identities. The pin, when set, is checked on every new connection before a byte is written.
 */
export class IdentityPool {
  readonly #settings: PoolSettings;
  readonly #secureContext: SecureContext;
  readonly #direct: Agent;
  readonly #tunnelled = new Map<string, Agent>();
  // Connections still in TCP connect, CONNECT or TLS handshake. undici cannot cancel those, so
  // destroy() does, instead of leaving them to the connect timeout.
  readonly #connecting = new Set<{ destroy(): void }>();

  constructor(settings: PoolSettings) {
    this.#settings = settings;
    // Fails with tls_handshake_failed when the certificate, its key or a CA is unusable.
    this.#secureContext = poolSecureContext(settings.identity, settings.cas, PACKAGE);
    this.#direct = this.#agent(undefined);
  }

  /**
   * The Agent for a request to `url`. A pinned pool is always direct: pins identify
   * cluster-local endpoints (Service Fabric) that a proxy cannot reach anyway.
   */
  dispatcherFor(url: URL, policy: ProxyPolicy): Dispatcher {
    const { proxies, pin } = this.#settings;
    const proxy = policy === "environment" && proxies && !pin ? proxyFor(url, proxies) : undefined;
    if (!proxy) return this.#direct;
    let agent = this.#tunnelled.get(proxy.href);
    if (!agent) {
      agent = this.#agent(proxy);
      this.#tunnelled.set(proxy.href, agent);
    }
    return agent;
  }

  /** Lets requests in flight finish, then closes every connection (used on LRU eviction). */
  async close(): Promise<void> {
    await Promise.all([this.#direct, ...this.#tunnelled.values()].map((agent) => agent.close()));
  }

  /** Ends requests in flight and closes every connection now (used by the transport's close()). */
  async destroy(): Promise<void> {
    for (const pending of this.#connecting) pending.destroy();
    this.#connecting.clear();
    await Promise.all([this.#direct, ...this.#tunnelled.values()].map((agent) => agent.destroy()));
  }

  #agent(proxy: URL | undefined): Agent {
    const { pin, lookup, connectTimeoutMs, agentOptions } = this.#settings;
    // undici's connector returns the socket it creates (its type says void): keep it to cancel.
    const connector = buildConnector({
      secureContext: this.#secureContext,
      // With a pin the CA chain is not what is trusted (Service Fabric's certificate is
      // self-signed): the pin check below replaces it, on every connection.
      rejectUnauthorized: pin === undefined,
      timeout: connectTimeoutMs,
      ...(lookup && !proxy ? { lookup } : {}),
      // A resumed session would skip nothing we check, but a pinned pool has no use for one.
      ...(pin ? { maxCachedSessions: 0 } : {}),
    }) as unknown as (
      options: buildConnector.Options,
      callback: buildConnector.Callback,
    ) => Socket | undefined;
    const finish =
      (callback: buildConnector.Callback) =>
      (error: Error | null, socket: Socket | TLSSocket | null): void => {
        if (error || !socket) {
          callback(error ?? new Error("no socket"), null);
          return;
        }
        if ("encrypted" in socket) {
          if (pin !== undefined && !matchesPin(socket, pin)) {
            socket.destroy();
            callback(pinMismatch(), null);
            return;
          }
          // A fatal TLS alert after the handshake (TLS 1.3 servers reject client certificates
          // then) is followed by EOF, which undici reports as "other side closed", hiding the
          // alert. Ending the socket on the alert makes undici fail the request with it.
          socket.on("error", (socketError: Error & { code?: string }) => {
            if (socketError.code?.startsWith("ERR_SSL_")) socket.destroy();
          });
        }
        callback(null, socket);
      };
    // Connects (TLS for https:) directly or over a tunnel, tracking the attempt in flight.
    const handshake = (options: buildConnector.Options, done: ReturnType<typeof finish>): void => {
      const socket = connector(options, ((error: Error | null, connected: Socket | null) => {
        if (socket) this.#connecting.delete(socket);
        done(error, connected);
      }) as buildConnector.Callback);
      if (socket) this.#connecting.add(socket);
    };
    const connect: buildConnector.connector = (options, callback) => {
      const done = finish(callback);
      if (!proxy) {
        handshake(options, done);
        return;
      }
      const https = options.protocol === "https:";
      const port = Number(options.port) || (https ? 443 : 80);
      const host = isIP(options.hostname) === 6 ? `[${options.hostname}]` : options.hostname;
      const cancel = new AbortController();
      const pending = { destroy: () => cancel.abort() };
      this.#connecting.add(pending);
      openTunnel(proxy, `${host}:${port}`, {
        secureContext: this.#settings.proxySecureContext,
        lookup,
        timeoutMs: connectTimeoutMs,
        signal: cancel.signal,
      }).then(
        (tunnel) => {
          this.#connecting.delete(pending);
          if (https) handshake({ ...options, httpSocket: tunnel }, done);
          else done(null, tunnel);
        },
        (error: Error) => {
          this.#connecting.delete(pending);
          done(error, null);
        },
      );
    };
    return new Agent({ ...agentOptions, connect });
  }
}
