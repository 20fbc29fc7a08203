import type { AgentOptions } from "node:https";
import type { LookupFunction } from "node:net";
import { type Clock, invalidOptions } from "@certbound/core";
import type { AxiosInstance, CreateAxiosDefaults } from "axios";
import { PACKAGE } from "./package-name";
import type { ProxyEnvironment } from "./proxy-route";

/**
 * Options of {@link createAxiosTransport}. Every field is optional.
 *
 * @example
 * ```ts
 * const options: AxiosTransportOptions = { axios: axios.create({ headers: { "user-agent": "my-app" } }), proxy: true };
 * ```
 */
export interface AxiosTransportOptions {
  /**
   * A ready axios instance (its interceptors run on every request) or the config to create one
   * with. Either way the transport sets, per request, what the contract needs: no redirects
   * (`maxRedirects: 0`), 4xx/5xx as responses (`validateStatus`), its own agents and proxying
   * (`proxy: false`), the raw body as text and the size cap (`maxContentLength`).
   * @default axios.create()
   */
  axios?: AxiosInstance | CreateAxiosDefaults | undefined;
  /**
   * Extra CA certificates (PEM) trusted for every request, on top of the system store,
   * `NODE_EXTRA_CA_CERTS` and each request's own `ca`. Also trusted for an `https://` proxy.
   */
  ca?: string | readonly string[] | undefined;
  /**
   * Options for every agent this transport creates (one `https.Agent` per client identity), e.g.
   * `keepAliveMsecs`, `maxSockets`. TLS settings (`ca`, `cert`, `key`, `rejectUnauthorized`) are the
   * transport's.
   */
  agentOptions?:
    | Omit<AgentOptions, "ca" | "cert" | "key" | "pfx" | "rejectUnauthorized" | "secureContext">
    | undefined;
  /** Budget for TCP connect plus TLS handshake (and for a proxy's CONNECT answer). @default 10000 */
  connectTimeoutMs?: number | undefined;
  /** axios `timeout`: a request fails when its connection stays idle this long. 0 turns it off. @default 300000 */
  idleTimeoutMs?: number | undefined;
  /** Largest response body accepted; larger ones fail with `response_too_large`. @default 1048576 (1 MiB) */
  maxResponseBytes?: number | undefined;
  /**
   * Proxy support, off by default. `true` reads `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` (either case)
   * from `process.env` once, when the transport is created; an object gives the same settings
   * explicitly. Only requests with `proxy: "environment"` use it; loopback and link-local
   * destinations (IMDS) and pinned requests are always direct. Connections are CONNECT tunnels.
   * @default false
   */
  proxy?: boolean | ProxyEnvironment | undefined;
  /**
   * How many `https.Agent`s (one per client identity and trust setting) stay open; the least
   * recently used is retired beyond that (idle sockets closed, busy ones after their request).
   * @default 16
   */
  maxIdentities?: number | undefined;
  /** Clock that measures each request's `timeoutMs`; inject a test clock in tests. @default systemClock */
  clock?: Clock | undefined;
  /** DNS lookup for direct connections (`dns.lookup` signature). @default dns.lookup */
  lookup?: LookupFunction | undefined;
}

/** Checks options eagerly so mistakes fail at construction with a message naming the option. */
export function validateOptions(options: AxiosTransportOptions): void {
  if (typeof options !== "object" || options === null) {
    throw invalidOptions(PACKAGE, "createAxiosTransport takes one options object (or nothing).");
  }
  positiveInteger(options.maxResponseBytes, "maxResponseBytes");
  positiveInteger(options.maxIdentities, "maxIdentities");
  positiveInteger(options.connectTimeoutMs, "connectTimeoutMs");
  positiveInteger(options.idleTimeoutMs, "idleTimeoutMs", true);
  if (options.ca !== undefined) {
    const list = typeof options.ca === "string" ? [options.ca] : options.ca;
    if (!Array.isArray(list) || list.some((pem) => typeof pem !== "string" || !pem.includes("-----BEGIN"))) {
      throw invalidOptions(
        PACKAGE,
        "`ca` must be PEM text or a list of PEM texts (-----BEGIN CERTIFICATE-----).",
      );
    }
  }
  if (options.axios !== undefined && (typeof options.axios !== "object" || options.axios === null)) {
    if (typeof options.axios !== "function") {
      throw invalidOptions(
        PACKAGE,
        "`axios` must be an axios instance (axios.create()) or an axios config object.",
      );
    }
  }
  if (options.lookup !== undefined && typeof options.lookup !== "function") {
    throw invalidOptions(PACKAGE, "`lookup` must be a function with the signature of dns.lookup.");
  }
  if (
    options.proxy !== undefined &&
    typeof options.proxy !== "boolean" &&
    typeof options.proxy !== "object"
  ) {
    throw invalidOptions(PACKAGE, "`proxy` must be true, false or { httpsProxy, httpProxy, noProxy }.");
  }
}

function positiveInteger(value: number | undefined, name: string, zeroAllowed = false): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < (zeroAllowed ? 0 : 1)) {
    throw invalidOptions(
      PACKAGE,
      `\`${name}\` must be a ${zeroAllowed ? "non-negative" : "positive"} integer, got ${String(value)}.`,
    );
  }
}
