import type { LookupFunction } from "node:net";
import type { SecureContext } from "node:tls";
import {
  abortedError,
  CertboundError,
  type ClientTlsIdentity,
  DEFAULT_MAX_RESPONSE_BYTES,
  endpointOf,
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
  type ProxyPolicy,
  systemClock,
} from "@certbound/core";
import type { Dispatcher } from "undici";
import { Attempt } from "./attempt";
import { BoundedPools } from "./bounded-pools";
import { IdentityDispatcher } from "./identity-dispatcher";
import { IdentityPool, type PoolSettings } from "./identity-pool";
import { mapError } from "./map-error";
import { type UndiciTransportOptions, validateOptions } from "./options";
import { PACKAGE } from "./package-name";
import { isAlwaysDirect, type ProxyRoutes, proxyEnvironmentFromProcess, proxyRoutes } from "./proxy-route";
import { normalisePin } from "./server-pin";
import { caList, secureContextFor, trustId } from "./trust";

/** Options of {@link UndiciTransport.dispatcherFor}. */
export interface DispatcherForOptions {
  /** Extra CAs (PEM) trusted on these connections, on top of the transport's. */
  ca?: string | readonly string[] | undefined;
  /** Verify the server by this SHA-1/SHA-256 thumbprint instead of a CA chain. */
  pinnedServerThumbprint?: string | undefined;
  /** Whether these calls may use the transport's proxy settings. @default "environment" */
  proxy?: ProxyPolicy | undefined;
}

/**
 * An {@link HttpTransport} on undici, plus access to its per-identity connection pools.
 *
 * @example
 * ```ts
 * const transport = createUndiciTransport();
 * const response = await transport.send({ method: "GET", url, headers: {}, clientIdentity: token.bindingCertificate });
 * await transport.close();
 * ```
 */
export interface UndiciTransport extends HttpTransport {
  send(request: HttpRequest): Promise<HttpResponse>;
  /**
   * An undici Dispatcher whose connections present `identity`'s certificate (none when omitted), for
   * undici's own `fetch`/`request`. It shares this transport's pools (keep-alive included) and
   * follows its proxy settings. The transport owns it: closing it is a no-op; `transport.close()`
   * ends its connections.
   *
   * @example
   * ```ts
   * import { fetch } from "undici";
   * const token = await app.acquireTokenForClient({ scopes, mtlsProofOfPossession: true });
   * const res = await fetch("https://api.contoso.example/items", {
   *   dispatcher: transport.dispatcherFor(token.bindingCertificate),
   *   headers: { authorization: `Bearer ${token.accessToken}` },
   * });
   * ```
   */
  dispatcherFor(identity?: ClientTlsIdentity | undefined, options?: DispatcherForOptions): Dispatcher;
  /** Ends requests in flight and closes every pooled connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * Creates the undici transport: one connection pool (undici Agent) per client TLS identity, keyed
 * by the certificate's `x5t#S256` and bounded by an LRU, keep-alive on, redirects never followed,
 * response bodies capped, proxies only when enabled and never for loopback or link-local hosts.
 *
 * @example
 * ```ts
 * import { createUndiciTransport } from "@certbound/http-undici";
 *
 * const transport = createUndiciTransport({ proxy: true });
 * const token = await app.acquireTokenForClient({ scopes, mtlsProofOfPossession: true });
 * const response = await transport.send({
 *   method: "GET",
 *   url: "https://api.contoso.example/items",
 *   headers: { authorization: `Bearer ${token.accessToken}` },
 *   clientIdentity: token.bindingCertificate,
 *   proxy: "environment",
 * });
 * await transport.close();
 * ```
 */
export function createUndiciTransport(options: UndiciTransportOptions = {}): UndiciTransport {
  validateOptions(options);
  const clock = options.clock ?? systemClock;
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const transportCas = caList(options.ca);
  const proxies: ProxyRoutes | undefined =
    options.proxy === true
      ? proxyRoutes(proxyEnvironmentFromProcess())
      : typeof options.proxy === "object"
        ? proxyRoutes(options.proxy)
        : undefined;
  const lookup: LookupFunction | undefined = options.lookup;
  let proxySecureContext: SecureContext | undefined;
  if (proxies && transportCas.length > 0) {
    proxySecureContext = secureContextFor(undefined, transportCas);
  }
  const agentOptions = {
    ...options.agentOptions,
    ...(options.headersTimeoutMs !== undefined ? { headersTimeout: options.headersTimeoutMs } : {}),
    ...(options.bodyTimeoutMs !== undefined ? { bodyTimeout: options.bodyTimeoutMs } : {}),
  };
  const pools = new BoundedPools<IdentityPool>(options.maxIdentities ?? 16, (pool) => {
    // Graceful: a request still running on the evicted identity finishes first.
    pool.close().catch(() => {});
  });
  let closed = false;

  function poolFor(
    identity: ClientTlsIdentity | undefined,
    requestCa: HttpRequest["ca"],
    pin: string | undefined,
  ) {
    if (closed) {
      throw new CertboundError("network_error", `${PACKAGE}: the transport is closed. Create a new one.`);
    }
    const cas = [...transportCas, ...caList(requestCa)];
    const key = `${identity?.x5tS256 ?? "-"} ${trustId(cas)} ${pin ?? "-"}`;
    return pools.get(key, () => {
      const settings: PoolSettings = {
        identity,
        cas,
        pin,
        lookup,
        connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
        agentOptions,
        proxies,
        proxySecureContext,
      };
      try {
        return new IdentityPool(settings);
      } catch (cause) {
        // createSecureContext rejected the certificate, key or a CA: nothing can be handshaken.
        throw new CertboundError(
          "tls_handshake_failed",
          `${PACKAGE}: the client certificate, its key or a CA certificate cannot be used for TLS (${(cause as Error).message}). Check that the key belongs to the certificate and that every PEM is complete.`,
          { cause },
        );
      }
    });
  }

  function pinOf(thumbprint: string | undefined, endpoint: string): string | undefined {
    if (thumbprint === undefined) return undefined;
    const pin = normalisePin(thumbprint);
    if (pin === undefined) {
      throw new CertboundError(
        "tls_handshake_failed",
        `pinnedServerThumbprint for ${endpoint} is not a certificate thumbprint: expected 40 (SHA-1) or 64 (SHA-256) hex digits.`,
      );
    }
    return pin;
  }

  function dispatcherForRequest(request: HttpRequest, url: URL, pin: string | undefined): Dispatcher {
    const policy = request.proxy ?? "never";
    if (
      options.dispatcher &&
      !request.clientIdentity &&
      caList(request.ca).length === 0 &&
      pin === undefined &&
      policy === "environment" &&
      !isAlwaysDirect(url.hostname)
    ) {
      return options.dispatcher;
    }
    return poolFor(request.clientIdentity, request.ca, pin).dispatcherFor(url, policy);
  }

  return {
    async send(request: HttpRequest): Promise<HttpResponse> {
      const endpoint = endpointOf(String(request.url));
      if (request.signal?.aborted) throw abortedError(request.signal);
      let url: URL;
      try {
        url = new URL(request.url);
      } catch (cause) {
        throw new CertboundError("network_error", `${PACKAGE}: "${endpoint}" is not a valid URL.`, { cause });
      }
      if (url.protocol !== "https:" && url.protocol !== "http:") {
        throw new CertboundError(
          "network_error",
          `${PACKAGE}: only http: and https: URLs are supported, got ${url.protocol}`,
        );
      }
      const pin = pinOf(request.pinnedServerThumbprint, endpoint);
      const dispatcher = dispatcherForRequest(request, url, pin);
      const attempt = new Attempt(clock, request.timeoutMs, request.signal);
      let answered = false;
      try {
        const response = await attempt.race(
          dispatcher.request({
            origin: url.origin,
            path: `${url.pathname}${url.search}`,
            method: request.method,
            headers: { ...request.headers },
            body: request.body ?? null,
            signal: attempt.signal,
          }),
          (late) => late.body.destroy(),
        );
        answered = true;
        const body = await readBody(response, maxBytes, endpoint);
        // undici hands a keep-alive connection back to its pool one event-loop turn after the
        // response (setImmediate); a caller sending its next request sooner would open a second
        // connection. Waiting that same turn keeps back-to-back requests on one connection.
        await new Promise<void>((resolve) => setImmediate(resolve));
        return { status: response.statusCode, headers: flattenHeaders(response.headers), body };
      } catch (error) {
        throw (
          attempt.failure(endpoint) ??
          mapError(error, { endpoint, withCertificate: request.clientIdentity !== undefined, answered })
        );
      } finally {
        attempt.dispose();
      }
    },

    dispatcherFor(identity, dispatcherOptions = {}) {
      const endpoint = "dispatcherFor()";
      const pin = pinOf(dispatcherOptions.pinnedServerThumbprint, endpoint);
      const policy = dispatcherOptions.proxy ?? "environment";
      return new IdentityDispatcher((origin) =>
        poolFor(identity, dispatcherOptions.ca, pin).dispatcherFor(origin, policy),
      );
    },

    async close() {
      closed = true;
      await Promise.all(pools.drain().map((pool) => pool.destroy()));
    },
  };
}

async function readBody(
  response: Dispatcher.ResponseData,
  maxBytes: number,
  endpoint: string,
): Promise<string> {
  const { body } = response;
  const declared = Number(response.headers["content-length"]);
  if (declared > maxBytes) {
    body.destroy();
    throw tooLarge(endpoint, maxBytes);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      body.destroy();
      throw tooLarge(endpoint, maxBytes);
    }
    chunks.push(chunk);
  }
  // Decoding once at the end keeps multi-byte characters split across chunks intact.
  return Buffer.concat(chunks, total).toString("utf8");
}

function tooLarge(endpoint: string, maxBytes: number): CertboundError {
  return new CertboundError(
    "response_too_large",
    `The response from ${endpoint} is larger than maxResponseBytes (${maxBytes} bytes). Raise maxResponseBytes if such responses are expected.`,
  );
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}
