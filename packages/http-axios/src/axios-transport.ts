import * as http from "node:http";
import * as https from "node:https";
import type { SecureContext } from "node:tls";
import {
  abortedError,
  CertboundError,
  DEFAULT_MAX_RESPONSE_BYTES,
  endpointOf,
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
  systemClock,
} from "@certbound/core";
import axios, { type AxiosInstance, type AxiosResponse } from "axios";
import { IdentityHttpsAgent, type Route, RouteHttpAgent, retire } from "./agents";
import { Attempt } from "./attempt";
import { BoundedPools } from "./bounded-pools";
import { mapError } from "./map-error";
import { type AxiosTransportOptions, validateOptions } from "./options";
import { PACKAGE } from "./package-name";
import { type ProxyRoutes, proxyEnvironmentFromProcess, proxyFor, proxyRoutes } from "./proxy-route";
import { normalisePin } from "./server-pin";
import { caList, secureContextFor, trustId } from "./trust";

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
  const clock = options.clock ?? systemClock;
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const transportCas = caList(options.ca);
  const proxies: ProxyRoutes | undefined =
    options.proxy === true
      ? proxyRoutes(proxyEnvironmentFromProcess())
      : typeof options.proxy === "object"
        ? proxyRoutes(options.proxy)
        : undefined;
  const proxySecureContext: SecureContext | undefined =
    proxies && transportCas.length > 0 ? secureContextFor(undefined, transportCas) : undefined;
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const routeTo = (proxy: URL | undefined): Route => ({
    proxy,
    proxySecureContext,
    lookup: options.lookup,
    connectTimeoutMs,
  });
  const agents = new BoundedPools<IdentityHttpsAgent>(options.maxIdentities ?? 16, retire);
  // Plain http: carries no identity, so one agent per route is enough.
  const plainAgents = new Map<string, RouteHttpAgent>();
  let closed = false;

  function assertOpen(): void {
    if (closed)
      throw new CertboundError("network_error", `${PACKAGE}: the transport is closed. Create a new one.`);
  }

  function httpsAgentFor(
    request: HttpRequest,
    pin: string | undefined,
    proxy: URL | undefined,
  ): IdentityHttpsAgent {
    const cas = [...transportCas, ...caList(request.ca)];
    const identity = request.clientIdentity;
    const key = `${identity?.x5tS256 ?? "-"} ${trustId(cas)} ${pin ?? "-"} ${proxy?.href ?? "direct"}`;
    return agents.get(key, () => {
      let secureContext: SecureContext;
      try {
        secureContext = secureContextFor(identity, cas);
      } catch (cause) {
        throw new CertboundError(
          "tls_handshake_failed",
          `${PACKAGE}: the client certificate, its key or a CA certificate cannot be used for TLS (${(cause as Error).message}). Check that the key belongs to the certificate and that every PEM is complete.`,
          { cause },
        );
      }
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
      const endpoint = endpointOf(String(request.url));
      if (request.signal?.aborted) throw abortedError(request.signal);
      assertOpen();
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
      let pin: string | undefined;
      if (request.pinnedServerThumbprint !== undefined) {
        pin = normalisePin(request.pinnedServerThumbprint);
        if (pin === undefined) {
          throw new CertboundError(
            "tls_handshake_failed",
            `pinnedServerThumbprint for ${endpoint} is not a certificate thumbprint: expected 40 (SHA-1) or 64 (SHA-256) hex digits.`,
          );
        }
      }
      // A pinned endpoint (Service Fabric) is cluster-local: always direct, like loopback and IMDS.
      const proxy =
        request.proxy === "environment" && proxies && pin === undefined ? proxyFor(url, proxies) : undefined;
      const agent =
        url.protocol === "https:"
          ? { httpsAgent: httpsAgentFor(request, pin, proxy) }
          : { httpAgent: httpAgentFor(proxy) };
      const attempt = new Attempt(clock, request.timeoutMs, request.signal);
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
            maxContentLength: maxBytes,
            maxBodyLength: Number.POSITIVE_INFINITY,
            timeout: options.idleTimeoutMs ?? 300_000,
            signal: attempt.signal,
          }),
          () => {},
        );
        return {
          status: response.status,
          headers: flattenHeaders(response.headers),
          // Decoded once, whole: multi-byte characters split across chunks stay intact.
          body: Buffer.isBuffer(response.data) ? response.data.toString("utf8") : String(response.data ?? ""),
        };
      } catch (error) {
        throw (
          attempt.failure(endpoint) ??
          mapError(error, {
            endpoint,
            withCertificate: request.clientIdentity !== undefined,
            maxResponseBytes: maxBytes,
          })
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

function flattenHeaders(headers: AxiosResponse["headers"]): Record<string, string> {
  const flat: Record<string, string> = {};
  const source =
    typeof (headers as { toJSON?: unknown }).toJSON === "function"
      ? (headers as { toJSON(): Record<string, unknown> }).toJSON()
      : (headers as Record<string, unknown>);
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined || value === null) continue;
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return flat;
}
