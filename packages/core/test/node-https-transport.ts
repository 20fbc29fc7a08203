// A small reference HttpTransport on node:https / node:http, used only by core's own tests. It
// shows the contract is implementable with nothing but Node and keeps the conformance suite honest
// without depending on an adapter package. No proxy support (declared to the suite).
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import type { Duplex } from "node:stream";
import { createSecureContext, rootCertificates, type TLSSocket } from "node:tls";
import {
  abortedError,
  CertboundError,
  type Clock,
  DEFAULT_MAX_RESPONSE_BYTES,
  endpointOf,
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
  systemClock,
} from "../src/index";

export interface NodeHttpsTransportOptions {
  clock?: Clock;
  lookup?: LookupFunction;
  /** @default DEFAULT_MAX_RESPONSE_BYTES */
  maxResponseBytes?: number;
  /** @default 16 */
  maxPools?: number;
}

const PIN_MISMATCH = "ERR_CERTBOUND_PIN_MISMATCH";

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
      callback(
        Object.assign(new Error("server certificate does not match the pin"), { code: PIN_MISMATCH }),
        socket,
      );
    });
    // Node's Agent waits for the callback when nothing is returned: no byte of the request is
    // written before the pin has been checked.
    return undefined as unknown as Duplex;
  }
}

function normalisePin(pin: string): string | undefined {
  const hex = pin.replaceAll(":", "").toLowerCase();
  return /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(hex) ? hex : undefined;
}

function matchesPin(socket: TLSSocket, pin: string): boolean {
  const cert = socket.getPeerX509Certificate();
  if (!cert) return false;
  const actual = pin.length === 40 ? cert.fingerprint : cert.fingerprint256;
  return actual.replaceAll(":", "").toLowerCase() === pin;
}

/**
 * Creates the reference transport.
 *
 * @example
 * ```ts
 * const transport = createNodeHttpsTransport({ clock });
 * ```
 */
export function createNodeHttpsTransport(options: NodeHttpsTransportOptions = {}): HttpTransport {
  const clock = options.clock ?? systemClock;
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const lookup = options.lookup ? { lookup: options.lookup } : {};
  const maxPools = options.maxPools ?? 16;
  // Insertion order is recency order: a hit re-inserts its key, so the first key is the eldest.
  const pools = new Map<string, HttpsAgent>();
  const plain = new HttpAgent({ keepAlive: true, ...lookup });
  let closed = false;

  function agentFor(request: HttpRequest, pin: string | undefined): HttpsAgent {
    const cas =
      request.ca === undefined ? [] : typeof request.ca === "string" ? [request.ca] : [...request.ca];
    const key = JSON.stringify([request.clientIdentity?.x5tS256 ?? null, cas, pin ?? null]);
    let agent = pools.get(key);
    if (agent) {
      pools.delete(key);
      pools.set(key, agent);
    } else {
      const identity = request.clientIdentity;
      const secureContext = createSecureContext({
        ...(cas.length > 0 ? { ca: [...rootCertificates, ...cas] } : {}),
        ...(identity
          ? {
              cert: identity.certificatePem,
              key: identity.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
            }
          : {}),
      });
      agent = new PinningAgent(
        {
          keepAlive: true,
          secureContext,
          // With a pin the chain is not what we trust: the pin check above replaces it.
          rejectUnauthorized: pin === undefined,
          ...(pin ? { maxCachedSessions: 0 } : {}),
          ...lookup,
        },
        pin,
      );
      pools.set(key, agent);
      if (pools.size > maxPools) {
        const [eldestKey, eldest] = pools.entries().next().value as [string, HttpsAgent];
        pools.delete(eldestKey);
        eldest.destroy();
      }
    }
    return agent;
  }

  return {
    async send(request: HttpRequest): Promise<HttpResponse> {
      const endpoint = endpointOf(request.url);
      if (closed)
        throw new CertboundError("network_error", `The transport is closed; cannot call ${endpoint}.`);
      if (request.signal?.aborted) throw abortedError(request.signal);
      const url = new URL(request.url);
      const pin =
        request.pinnedServerThumbprint === undefined
          ? undefined
          : normalisePin(request.pinnedServerThumbprint);
      if (request.pinnedServerThumbprint !== undefined && pin === undefined) {
        throw new CertboundError(
          "tls_handshake_failed",
          `pinnedServerThumbprint for ${endpoint} is not 40 (SHA-1) or 64 (SHA-256) hex digits.`,
        );
      }
      const https = url.protocol === "https:";
      const agent = https ? agentFor(request, pin) : plain;
      const attempt = new Attempt(clock, request.timeoutMs, request.signal);
      let answered = false;
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
        answered = true;
        const declared = Number(response.headers["content-length"]);
        if (declared > maxBytes) {
          response.destroy();
          throw tooLarge(endpoint, maxBytes);
        }
        const chunks: Buffer[] = [];
        let total = 0;
        for await (const chunk of response as AsyncIterable<Buffer>) {
          total += chunk.length;
          if (total > maxBytes) {
            response.destroy();
            throw tooLarge(endpoint, maxBytes);
          }
          chunks.push(chunk);
        }
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(response.headers)) {
          if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
        }
        return {
          status: response.statusCode ?? 0,
          headers,
          body: Buffer.concat(chunks).toString("utf8"),
        };
      } catch (error) {
        throw attempt.failure(endpoint) ?? mapError(error, endpoint, !answered && !!request.clientIdentity);
      } finally {
        attempt.dispose();
      }
    },
    async close() {
      closed = true;
      for (const agent of pools.values()) agent.destroy();
      pools.clear();
      plain.destroy();
    },
  };
}

function tooLarge(endpoint: string, max: number): CertboundError {
  return new CertboundError(
    "response_too_large",
    `The response from ${endpoint} is larger than maxResponseBytes (${max} bytes).`,
  );
}

/** Aborts one attempt on the caller's signal or when `timeoutMs` passes on the injected clock. */
class Attempt {
  readonly #controller = new AbortController();
  readonly #timer = new AbortController();
  readonly #outer: AbortSignal | undefined;
  readonly #timeoutMs: number | undefined;
  #reason: "timeout" | "aborted" | undefined;
  readonly #onAbort = () => this.#fire("aborted");

  constructor(clock: Clock, timeoutMs: number | undefined, outer: AbortSignal | undefined) {
    this.#outer = outer;
    this.#timeoutMs = timeoutMs;
    outer?.addEventListener("abort", this.#onAbort, { once: true });
    if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
      clock.sleep(Math.max(0, timeoutMs), this.#timer.signal).then(
        () => this.#fire("timeout"),
        () => {},
      );
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  #fire(reason: "timeout" | "aborted") {
    if (this.#reason) return;
    this.#reason = reason;
    this.#controller.abort();
  }

  failure(endpoint: string): CertboundError | undefined {
    if (this.#reason === "aborted") return abortedError(this.#outer);
    if (this.#reason === "timeout") {
      return new CertboundError(
        "timeout",
        `The request to ${endpoint} timed out after ${this.#timeoutMs} ms.`,
      );
    }
    return undefined;
  }

  dispose() {
    this.#timer.abort();
    this.#outer?.removeEventListener("abort", this.#onAbort);
  }
}

const TLS_CODE =
  /^(ERR_SSL_|ERR_TLS_|UNABLE_TO_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH|ERR_CERTBOUND_PIN)/;

function mapError(
  error: unknown,
  endpoint: string,
  closedBeforeAnswerWithCertificate: boolean,
): CertboundError {
  if (error instanceof CertboundError) return error;
  const { code, message } = describeError(error);
  if (TLS_CODE.test(code) || /secure TLS connection/.test(message)) {
    return new CertboundError(
      "tls_handshake_failed",
      `TLS handshake with ${endpoint} failed (${code || message}). Check the server certificate is trusted (ca) or pinned, matches the host name, and that the server accepts the client certificate.`,
      { cause: error },
    );
  }
  if (code === "ETIMEDOUT") {
    return new CertboundError("timeout", `The connection to ${endpoint} timed out.`, { cause: error });
  }
  const hint =
    closedBeforeAnswerWithCertificate && code === "ECONNRESET"
      ? " The server closed the connection before answering: it may have rejected the client certificate."
      : "";
  return new CertboundError(
    "network_error",
    `The request to ${endpoint} failed (${code || message}).${hint}`,
    {
      cause: error,
    },
  );
}

function describeError(error: unknown): { code: string; message: string } {
  const e = error as { code?: unknown; message?: unknown } | undefined;
  return {
    code: typeof e?.code === "string" ? e.code : "",
    message: typeof e?.message === "string" ? e.message : "",
  };
}
