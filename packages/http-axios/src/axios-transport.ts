import * as http from "node:http";
import * as https from "node:https";
import { abortedError, type HttpRequest, type HttpResponse, type HttpTransport } from "@certbound/core";
import {
  Attempt,
  BoundedPools,
  flattenHeaders,
  parseRequestTarget,
  poolScope,
  poolSecureContext,
  proxyFor,
  resolveTransportOptions,
  transportClosed,
} from "@certbound/core/transport-kit";
import axios, { type AxiosInstance, type AxiosResponse } from "axios";
import { IdentityHttpsAgent, type Route, RouteHttpAgent, retire } from "./agents";
import { mapError } from "./map-error";
import { type AxiosTransportOptions, validateOptions } from "./options";
import { PACKAGE } from "./package-name";

/**
 * An {@link HttpTransport} on axios.
 *
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
}

/**
 * Creates the axios transport: one keep-alive `https.Agent` per client TLS identity, keyed by the
 * certificate's `x5t#S256` and bounded by an LRU; redirects never followed; 4xx/5xx returned as
 * responses; bodies capped; proxies only when enabled and never for loopback or link-local hosts.
 *
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

  function httpsAgentFor(
    request: HttpRequest,
    pin: string | undefined,
    proxy: URL | undefined,
  ): IdentityHttpsAgent {
    const identity = request.clientIdentity;
    const route = proxy?.href ?? "direct";
    const { cas, key } = poolScope({ transportCas: settings.cas, identity, ca: request.ca, pin, route });
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
      try {
        const response: AxiosResponse<Buffer> = await attempt.race(
          instance.request<Buffer>({
            url: url.href,
            method: request.method,
            headers: { ...request.headers },
            data: toBuffer(request.body),
            ...agent,
            // The contract, whatever the instance's defaults say. Node's http stack (not fetch, not
            // HTTP/2, not a custom transport or socket) so that the per-identity agents are used.
            adapter: "http",
            httpVersion: 1,
            transport: url.protocol === "https:" ? https : http,
            socketPath: null,
            params: null,
            proxy: false,
            maxRedirects: 0,
            validateStatus: () => true,
            allowAbsoluteUrls: true,
            responseType: "arraybuffer",
            transformRequest: [(data: unknown) => data],
            transformResponse: [(data: unknown) => data],
            maxContentLength: maxResponseBytes,
            maxBodyLength: Number.POSITIVE_INFINITY,
            timeout: options.idleTimeoutMs ?? 300_000,
            signal: attempt.signal,
          }),
          () => {},
        );
        return {
          status: response.status,
          headers: flattenHeaders(plainHeaders(response.headers)),
          // Decoded once, whole: multi-byte characters split across chunks stay intact.
          body: Buffer.isBuffer(response.data) ? response.data.toString("utf8") : String(response.data ?? ""),
        };
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

    async close() {
      closed = true;
      for (const agent of agents.drain()) agent.destroy();
      for (const agent of plainAgents.values()) agent.destroy();
      plainAgents.clear();
    },
  };
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
