import type {
  ClientTlsIdentity,
  HttpRequest,
  HttpResponse,
  HttpTransport,
  ProxyPolicy,
} from "@certbound/core";
import { requestSecrets } from "@certbound/core/credential-kit";
import {
  Attempt,
  abortedError,
  BoundedPools,
  caList,
  DEFAULT_ACCEPT_ENCODING,
  decodeResponseBody,
  flattenHeaders,
  isAlwaysDirect,
  parsePinnedThumbprint,
  parseRequestTarget,
  poolScope,
  resolveTransportOptions,
  transportClosed,
} from "@certbound/core/transport-kit";
import type { Dispatcher } from "undici";
import { IdentityDispatcher } from "./identity-dispatcher";
import { IdentityPool, type PoolSettings } from "./identity-pool";
import { mapError } from "./map-error";
import { type UndiciTransportOptions, validateOptions } from "./options";
import { PACKAGE } from "./package-name";
import { ResponseCollector } from "./response-collector";

/**
 * Options of {@link UndiciTransport.dispatcherFor}.
 *
 * @public
 */
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
 * @public
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
  /** Same as {@link UndiciTransport.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates the undici transport: one connection pool (undici Agent) per client TLS identity, keyed
 * by the certificate itself and bounded by an LRU, keep-alive on, redirects never followed,
 * response bodies capped (compressed ones decoded within the cap), headers with CR/LF refused
 * before sending, proxies only when enabled and never for loopback or link-local hosts.
 *
 * @public
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
  const settings = resolveTransportOptions(options, PACKAGE);
  const agentOptions = {
    ...options.agentOptions,
    ...(options.headersTimeoutMs !== undefined ? { headersTimeout: options.headersTimeoutMs } : {}),
    ...(options.bodyTimeoutMs !== undefined ? { bodyTimeout: options.bodyTimeoutMs } : {}),
  };
  const pools = new BoundedPools<IdentityPool>(settings.maxIdentities, (pool) => {
    // Graceful: a request still running on the evicted identity finishes first.
    pool.close().catch(() => {});
  });
  let closed = false;
  const close = async (): Promise<void> => {
    closed = true;
    await Promise.all(pools.drain().map((pool) => pool.destroy()));
  };

  function poolFor(
    identity: ClientTlsIdentity | undefined,
    requestCa: HttpRequest["ca"],
    pin: string | undefined,
  ) {
    if (closed) throw transportClosed(PACKAGE);
    const { cas, key } = poolScope({
      transportCas: settings.cas,
      identity,
      ca: requestCa,
      pin,
      packageName: PACKAGE,
    });
    return pools.get(key, () => {
      const poolSettings: PoolSettings = { ...settings, identity, cas, pin, agentOptions };
      return new IdentityPool(poolSettings);
    });
  }

  /** The app's dispatcher, when this request may use it; else `undefined`. */
  function appDispatcherFor(request: HttpRequest, url: URL, pin: string | undefined): Dispatcher | undefined {
    if (
      options.dispatcher &&
      !request.clientIdentity &&
      caList(request.ca).length === 0 &&
      pin === undefined &&
      (request.proxy ?? "never") === "environment" &&
      !isAlwaysDirect(url.hostname) &&
      // What the app's dispatcher does with TLS and redirects is out of our hands (an Agent with
      // rejectUnauthorized: false, a redirect interceptor): a request carrying a secret (an
      // Authorization header, a client assertion, a secret header) never goes through it.
      requestSecrets(request).length === 0
    ) {
      return options.dispatcher;
    }
    return undefined;
  }

  return {
    async send(request: HttpRequest): Promise<HttpResponse> {
      if (request.signal?.aborted) throw abortedError(request.signal);
      const { endpoint, url, pin } = parseRequestTarget(request, PACKAGE);
      const appDispatcher = appDispatcherFor(request, url, pin);
      const dispatcher =
        appDispatcher ??
        poolFor(request.clientIdentity, request.ca, pin).dispatcherFor(url, request.proxy ?? "never");
      const attempt = new Attempt(settings.clock, request.timeoutMs, request.signal);
      // The body is collected by the dispatch handler itself, within the cap (see ResponseCollector).
      const collector = new ResponseCollector(settings.maxResponseBytes, endpoint);
      try {
        // Timeout and abort end the exchange at once, and abort undici's request once it has started.
        attempt.onCancel(() => collector.cancel(attempt.failure(endpoint) ?? abortedError(request.signal)));
        dispatcher.dispatch(
          {
            origin: url.origin,
            path: `${url.pathname}${url.search}`,
            method: request.method,
            // The same accept-encoding on every transport (axios would add its own list).
            headers: { "accept-encoding": DEFAULT_ACCEPT_ENCODING, ...request.headers },
            body: request.body ?? null,
            // undici's redirect interceptor, if the app's dispatcher has one, follows nothing.
            ...(appDispatcher ? { maxRedirections: 0 } : {}),
          } as Dispatcher.DispatchOptions,
          collector,
        );
        const response = await collector.response;
        // undici hands compressed bytes over as they came: decode within the same cap as axios.
        const decoded = await decodeResponseBody(response.body, flattenHeaders(response.headers), {
          maxBytes: settings.maxResponseBytes,
          endpoint,
        });
        // undici hands a keep-alive connection back to its pool one event-loop turn after the
        // response (setImmediate); a caller sending its next request sooner would open a second
        // connection. Waiting that same turn keeps back-to-back requests on one connection.
        await new Promise<void>((resolve) => setImmediate(resolve));
        return { status: response.statusCode, headers: decoded.headers, body: decoded.body };
      } catch (error) {
        // A request ended by close() says so (undici's "client is destroyed" would not).
        throw (
          attempt.failure(endpoint) ??
          (closed
            ? transportClosed(PACKAGE)
            : mapError(error, {
                endpoint,
                withCertificate: request.clientIdentity !== undefined,
                answered: collector.answered,
              }))
        );
      } finally {
        attempt.dispose();
      }
    },

    dispatcherFor(identity, dispatcherOptions = {}) {
      const pin = parsePinnedThumbprint(dispatcherOptions.pinnedServerThumbprint, "dispatcherFor()");
      const policy = dispatcherOptions.proxy ?? "environment";
      return new IdentityDispatcher((origin) =>
        poolFor(identity, dispatcherOptions.ca, pin).dispatcherFor(origin, policy),
      );
    },

    close,
    [Symbol.asyncDispose]: close,
  };
}
