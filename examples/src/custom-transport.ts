// A transport of your own on node:https / node:http, built from @certbound/core/transport-kit:
// per-certificate pools, pinning, timeouts on the injected clock and typed errors, with nothing but
// Node. It passes the shared testHttpTransport conformance suite (core's tests run it there, so the
// suite is checked against a transport that depends on no adapter package). No proxy support,
// declared to the suite.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import {
  type Clock,
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
  systemClock,
} from "@certbound/core";
import {
  Attempt,
  abortedError,
  BoundedPools,
  DEFAULT_MAX_IDENTITIES,
  DEFAULT_MAX_RESPONSE_BYTES,
  decodeResponseBody,
  flattenHeaders,
  mapTransportError,
  matchesPin,
  parseRequestTarget,
  pinMismatch,
  poolScope,
  poolSecureContext,
  readCappedBytes,
  transportClosed,
} from "@certbound/core/transport-kit";

const PACKAGE = "node-https-transport";

export interface NodeHttpsTransportOptions {
  clock?: Clock;
  lookup?: LookupFunction;
  /** @default DEFAULT_MAX_RESPONSE_BYTES */
  maxResponseBytes?: number;
  /** @default 16 */
  maxPools?: number;
}

/** An https.Agent that, when pinned, checks the server certificate before handing out the socket. */
class PinningAgent extends HttpsAgent {
  readonly #pin: string | undefined;

  constructor(options: ConstructorParameters<typeof HttpsAgent>[0], pin: string | undefined) {
    super(options);
    this.#pin = pin;
  }

  override createConnection(
    options: Parameters<HttpsAgent["createConnection"]>[0],
    callback?: (error: Error | null, stream: Duplex) => void,
  ): Duplex {
    const pin = this.#pin;
    const socket = super.createConnection(options) as TLSSocket;
    if (!pin || !callback) return socket;
    const onError = (error: Error) => callback(error, socket);
    socket.once("error", onError);
    socket.once("secureConnect", () => {
      socket.off("error", onError);
      if (matchesPin(socket, pin)) return callback(null, socket);
      socket.destroy();
      callback(pinMismatch(), socket);
    });
    // Node's Agent waits for the callback when nothing is returned: no byte of the request is
    // written before the pin has been checked.
    return undefined as unknown as Duplex;
  }
}

/**
 * Creates the reference transport.
 *
 * @example
 * ```ts
 * const transport = createNodeHttpsTransport({ clock });
 * ```
 */
export function createNodeHttpsTransport(
  options: NodeHttpsTransportOptions = {},
): HttpTransport & AsyncDisposable {
  const clock = options.clock ?? systemClock;
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const lookup = options.lookup ? { lookup: options.lookup } : {};
  const pools = new BoundedPools<HttpsAgent>(options.maxPools ?? DEFAULT_MAX_IDENTITIES, (agent) =>
    agent.destroy(),
  );
  const plain = new HttpAgent({ keepAlive: true, ...lookup });
  let closed = false;

  function agentFor(request: HttpRequest, pin: string | undefined): HttpsAgent {
    const identity = request.clientIdentity;
    const { cas, key } = poolScope({ transportCas: [], identity, ca: request.ca, pin });
    return pools.get(key, () => {
      return new PinningAgent(
        {
          keepAlive: true,
          secureContext: poolSecureContext(identity, cas, PACKAGE),
          // With a pin the chain is not what we trust: the pin check above replaces it.
          rejectUnauthorized: pin === undefined,
          ...(pin ? { maxCachedSessions: 0 } : {}),
          ...lookup,
        },
        pin,
      );
    });
  }

  const close = async (): Promise<void> => {
    closed = true;
    for (const agent of pools.drain()) agent.destroy();
    plain.destroy();
  };
  return {
    async send(request: HttpRequest): Promise<HttpResponse> {
      if (closed) throw transportClosed(PACKAGE);
      if (request.signal?.aborted) throw abortedError(request.signal);
      const { endpoint, url, pin } = parseRequestTarget(request, PACKAGE);
      const https = url.protocol === "https:";
      const agent = https ? agentFor(request, pin) : plain;
      const attempt = new Attempt(clock, request.timeoutMs, request.signal);
      try {
        const response = await new Promise<IncomingMessage>((resolve, reject) => {
          const req = (https ? httpsRequest : httpRequest)(
            url,
            { method: request.method, headers: request.headers, agent, signal: attempt.signal },
            resolve,
          );
          req.on("error", reject);
          req.end(request.body === undefined ? undefined : Buffer.from(request.body));
        });
        const raw = await readCappedBytes(response, {
          maxBytes,
          endpoint,
          contentLength: response.headers["content-length"],
        });
        // A server may compress without being asked: decode within the same cap.
        const { body, headers } = await decodeResponseBody(raw, flattenHeaders(response.headers), {
          maxBytes,
          endpoint,
        });
        return { status: response.statusCode ?? 0, headers, body };
      } catch (error) {
        // A request ended by close() says so (a destroyed agent reports only "socket hang up").
        throw (
          attempt.failure(endpoint) ??
          (closed
            ? transportClosed(PACKAGE)
            : mapTransportError(error, { endpoint, withCertificate: request.clientIdentity !== undefined }))
        );
      } finally {
        attempt.dispose();
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
