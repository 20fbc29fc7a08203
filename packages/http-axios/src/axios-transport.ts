import * as http from "node:http";
import * as https from "node:https";
import type { HttpRequest, HttpResponse, HttpTransport } from "@certbound/core";
import {
  Attempt,
  abortedError,
  BoundedPools,
  DEFAULT_ACCEPT_ENCODING,
  decodeResponseBody,
  flattenHeaders,
  parseRequestTarget,
  poolScope,
  poolSecureContext,
  proxyFor,
  resolveTransportOptions,
  transportClosed,
} from "@certbound/core/transport-kit";
import axios, {
  type AxiosAdapter,
  type AxiosInstance,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from "axios";
import { IdentityHttpsAgent, type Route, RouteHttpAgent, retire } from "./agents";
import { mapError } from "./map-error";
import { type AxiosTransportOptions, validateOptions } from "./options";
import { PACKAGE } from "./package-name";

/**
 * An {@link HttpTransport} on axios.
 *
 * @public
 * @example
 * ```ts
 * const transport = createAxiosTransport();
 * const response = await transport.send({ method: "GET", url, headers: {}, clientIdentity: token.bindingCertificate });
 * await transport.close();
 * ```
 */
export interface AxiosTransport extends HttpTransport {
  send(request: HttpRequest): Promise<HttpResponse>;
  /** Ends requests in flight and closes every pooled connection. Idempotent. */
  close(): Promise<void>;
  /** Same as {@link AxiosTransport.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates the axios transport: one keep-alive `https.Agent` per client TLS identity, keyed by the
 * certificate itself and bounded by an LRU; redirects never followed and TLS never weakened,
 * whatever the instance's defaults or request interceptors set; 4xx/5xx returned as responses;
 * bodies capped (compressed ones decoded within the cap); headers with CR/LF refused before
 * sending; proxies only when enabled and never for loopback or link-local hosts.
 *
 * @public
 * @example
 * ```ts
 * import { createAxiosTransport } from "@certbound/http-axios";
 *
 * const transport = createAxiosTransport({ proxy: true });
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
export function createAxiosTransport(options: AxiosTransportOptions = {}): AxiosTransport {
  validateOptions(options);
  const instance: AxiosInstance =
    typeof options.axios === "function" ? options.axios : axios.create(options.axios ?? {});
  const settings = resolveTransportOptions(options, PACKAGE);
  const { proxies, maxResponseBytes } = settings;
  const routeTo = (proxy: URL | undefined): Route => ({ ...settings, proxy });
  const agents = new BoundedPools<IdentityHttpsAgent>(settings.maxIdentities, retire);
  // Plain http: carries no identity, so one agent per route is enough.
  const plainAgents = new Map<string, RouteHttpAgent>();
  let closed = false;
  const close = async (): Promise<void> => {
    closed = true;
    for (const agent of agents.drain()) agent.destroy();
    for (const agent of plainAgents.values()) agent.destroy();
    plainAgents.clear();
  };

  function httpsAgentFor(
    request: HttpRequest,
    pin: string | undefined,
    proxy: URL | undefined,
  ): IdentityHttpsAgent {
    const identity = request.clientIdentity;
    const route = proxy?.href ?? "direct";
    const { cas, key } = poolScope({
      transportCas: settings.cas,
      identity,
      ca: request.ca,
      pin,
      route,
      packageName: PACKAGE,
    });
    return agents.get(key, () => {
      const secureContext = poolSecureContext(identity, cas, PACKAGE);
      return new IdentityHttpsAgent({ ...options.agentOptions, secureContext }, pin, routeTo(proxy));
    });
  }

  function httpAgentFor(proxy: URL | undefined): RouteHttpAgent {
    const key = proxy?.href ?? "direct";
    let agent = plainAgents.get(key);
    if (!agent) {
      agent = new RouteHttpAgent({ ...options.agentOptions }, routeTo(proxy));
      plainAgents.set(key, agent);
    }
    return agent;
  }

  return {
    async send(request: HttpRequest): Promise<HttpResponse> {
      if (request.signal?.aborted) throw abortedError(request.signal);
      if (closed) throw transportClosed(PACKAGE);
      const { endpoint, url, pin } = parseRequestTarget(request, PACKAGE);
      // A pinned endpoint (Service Fabric) is cluster-local: always direct, like loopback and IMDS.
      const proxy =
        request.proxy === "environment" && proxies && pin === undefined ? proxyFor(url, proxies) : undefined;
      const agent =
        url.protocol === "https:"
          ? { httpsAgent: httpsAgentFor(request, pin, proxy) }
          : { httpAgent: httpAgentFor(proxy) };
      const attempt = new Attempt(settings.clock, request.timeoutMs, request.signal);
      // The contract, whatever the instance's defaults say. Node's http stack (not fetch, not
      // HTTP/2, not a custom transport or socket) so that the per-identity agents are used; no
      // redirects; TLS by the transport's agents only; the body as it came (decoded below).
      const enforced = {
        url: url.href,
        ...agent,
        httpVersion: 1 as const,
        transport: url.protocol === "https:" ? https : http,
        socketPath: null,
        proxy: false as const,
        maxRedirects: 0,
        insecureHTTPParser: false,
        decompress: false,
        maxContentLength: maxResponseBytes,
      };
      try {
        const response: AxiosResponse<Buffer> = await attempt.race(
          instance.request<Buffer>({
            method: request.method,
            // The same accept-encoding on every transport (axios would add its own list).
            headers: { "accept-encoding": DEFAULT_ACCEPT_ENCODING, ...request.headers },
            data: toBuffer(request.body),
            ...enforced,
            // Request interceptors of the app's instance run after this config is merged and may
            // change anything (an insecure httpsAgent, maxRedirects): the adapter, which runs
            // after them, puts the transport's settings back before a byte is sent.
            adapter: enforcingAdapter(enforced),
            params: null,
            validateStatus: () => true,
            allowAbsoluteUrls: true,
            responseType: "arraybuffer",
            transformRequest: [(data: unknown) => data],
            transformResponse: [(data: unknown) => data],
            maxBodyLength: Number.POSITIVE_INFINITY,
            timeout: options.idleTimeoutMs ?? 300_000,
            signal: attempt.signal,
          }),
          () => {},
        );
        const raw = Buffer.isBuffer(response.data) ? response.data : Buffer.from(String(response.data ?? ""));
        // Decoded once, whole (multi-byte characters split across chunks stay intact), and
        // decompressed by the same code and cap as on undici.
        const decoded = await decodeResponseBody(raw, flattenHeaders(plainHeaders(response.headers)), {
          maxBytes: maxResponseBytes,
          endpoint,
        });
        return { status: response.status, headers: decoded.headers, body: decoded.body };
      } catch (error) {
        // A request ended by close() says so (a destroyed agent reports only "socket hang up").
        throw (
          attempt.failure(endpoint) ??
          (closed
            ? transportClosed(PACKAGE)
            : mapError(error, {
                endpoint,
                withCertificate: request.clientIdentity !== undefined,
                maxResponseBytes,
              }))
        );
      } finally {
        attempt.dispose();
      }
    },

    close,
    [Symbol.asyncDispose]: close,
  };
}

const httpAdapter = axios.getAdapter("http");

/** axios' http adapter, run with the transport's settings put back over whatever interceptors set. */
function enforcingAdapter(enforced: Record<string, unknown>): AxiosAdapter {
  return (config: InternalAxiosRequestConfig) => httpAdapter(Object.assign(config, enforced));
}

function toBuffer(body: string | Uint8Array | undefined): Buffer | undefined {
  if (body === undefined) return undefined;
  if (typeof body === "string") return Buffer.from(body, "utf8");
  // A view, not its whole backing buffer (axios would send `data.buffer` for a typed array).
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

// AxiosHeaders keeps its values behind toJSON(); a plain object (from an adapter of the
// instance's own) is used as it is.
function plainHeaders(headers: AxiosResponse["headers"]): Record<string, unknown> {
  return typeof (headers as { toJSON?: unknown }).toJSON === "function"
    ? (headers as { toJSON(): Record<string, unknown> }).toJSON()
    : (headers as Record<string, unknown>);
}
