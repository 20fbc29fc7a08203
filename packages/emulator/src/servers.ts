import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Socket } from "node:net";
import { CertboundError } from "@certbound/core";
import type { Router } from "./context";
import { type Exchange, json, type Reply, readExchange } from "./exchange";
import { type FaultQueue, replacesAnswer } from "./faults";
import type { ServerName, StatsRecorder } from "./stats";
import type { EndpointName, Fault } from "./types";

/** What every server shares: stats, faults, and the lifecycle that `close()` ends. */
export interface ServerDeps {
  readonly stats: StatsRecorder;
  readonly faults: FaultQueue;
  readonly lifecycle: Lifecycle;
  /** Told about each routed request once it is answered (or reset, hung, dropped): the inspector's feed. */
  readonly observe?: ((event: ObservedRequest) => void) | undefined;
}

/** One routed request as the server handled it, for {@link ServerDeps.observe}. */
export interface ObservedRequest {
  readonly endpoint: EndpointName;
  readonly exchange: Exchange;
  /** The answer written; absent when the fault reset the connection, hung it, or the emulator closed first. */
  readonly reply: Reply | undefined;
  readonly outcome: "answered" | "reset" | "hung" | "closed";
  readonly fault: Fault | undefined;
  /** From the request's arrival (body read) to the answer, in milliseconds (monotonic clock). */
  readonly durationMs: number;
}

/** Tracks what must end on close: delay timers (a hung or delayed request never outlives the emulator). */
export class Lifecycle {
  closed = false;
  private readonly timers = new Map<NodeJS.Timeout, () => void>();

  /** Waits `ms`; resolves `false` at once when the emulator closes meanwhile. */
  delay(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve(!this.closed);
      }, ms);
      this.timers.set(timer, () => resolve(false));
    });
  }

  close(): void {
    this.closed = true;
    for (const [timer, release] of this.timers) {
      clearTimeout(timer);
      release();
    }
    this.timers.clear();
  }
}

/** TLS settings of an HTTPS server. */
export interface TlsSettings {
  certificatePem: string;
  keyPem: string;
  /** Ask for a client certificate; the handshake never fails for it: the routes check it. */
  requestCert: boolean;
  /** Handshake counter to bump. */
  name: ServerName;
}

/** A listening server and how to stop it. */
export interface RunningServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts one server on `host:port` that dispatches to `router`. */
export async function startServer(
  options: {
    host: string;
    port: number;
    router: Router;
    tls?: TlsSettings;
    label: string;
    /** Serves a request itself (the inspector's pages) and returns true, before routing, stats and faults. */
    intercept?: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
  },
  deps: ServerDeps,
): Promise<RunningServer> {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (options.intercept?.(req, res)) return;
    dispatch(req, res, options.router, deps).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        write(
          res,
          json(500, {
            error: "emulator_error",
            error_description: String((error as Error)?.message ?? error),
          }),
        );
      } else {
        res.destroy();
      }
    });
  };
  const tls = options.tls;
  const server: Server = tls
    ? createHttpsServer(
        {
          cert: tls.certificatePem,
          key: tls.keyPem,
          requestCert: tls.requestCert,
          // Entra accepts self-signed client certificates that are registered: the TLS layer lets
          // every certificate through and the routes decide.
          rejectUnauthorized: false,
        },
        handler,
      )
    : createHttpServer(handler);
  if (tls) server.on("secureConnection", () => deps.stats.handshake(tls.name));

  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        new CertboundError(
          "network_error",
          `@certbound/emulator: the ${options.label} server could not listen on ${options.host}:${options.port} (${error.code ?? error.message}). Pick another port, or 0 for an ephemeral one.`,
          { cause: error },
        ),
      );
    };
    server.once("error", onError);
    server.listen(options.port, options.host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;

  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
      }),
  };
}

async function dispatch(
  req: IncomingMessage,
  res: ServerResponse,
  router: Router,
  deps: ServerDeps,
): Promise<void> {
  let exchange: Awaited<ReturnType<typeof readExchange>>;
  try {
    exchange = await readExchange(req);
  } catch {
    // The client went away while sending its body.
    req.socket.destroy();
    return;
  }
  if (!exchange) {
    write(res, json(413, { error: "invalid_request", error_description: "The request body is too large." }));
    return;
  }
  const route = router(exchange);
  if (!route) {
    write(
      res,
      json(404, {
        error: "not_found",
        error_description: `The emulator serves nothing at ${exchange.path} here.`,
      }),
    );
    return;
  }
  deps.stats.record(route.endpoint, exchange);
  const fault = deps.faults.take(route.endpoint);
  const started = performance.now();
  const observe = (outcome: ObservedRequest["outcome"], reply?: Reply) =>
    deps.observe?.({
      endpoint: route.endpoint,
      exchange,
      reply,
      outcome,
      fault,
      durationMs: performance.now() - started,
    });
  if (fault?.reset) {
    req.socket.destroy();
    observe("reset");
    return;
  }
  // A hung request keeps its connection open until the client gives up or the emulator closes.
  if (fault?.hang) {
    observe("hung");
    return;
  }
  if (fault?.delayMs !== undefined && fault.delayMs > 0) {
    if (!(await deps.lifecycle.delay(fault.delayMs))) {
      observe("closed");
      return;
    }
  }
  let reply: Reply;
  if (fault && replacesAnswer(fault)) {
    const status = fault.status ?? 500;
    reply = route.faultReply(status);
    reply.status = status;
    if (fault.body !== undefined) reply.body = fault.body;
  } else {
    reply = await route.handle();
  }
  if (fault?.headers) reply.headers = { ...reply.headers, ...fault.headers };
  write(res, reply);
  observe("answered", reply);
}

function write(res: ServerResponse, reply: Reply): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(reply.status, reply.headers ?? {});
  res.end(reply.body ?? "");
}
