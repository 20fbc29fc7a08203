import type { LookupFunction } from "node:net";
import { type Clock, invalidOptions } from "@certbound/core";
import type { Agent, Dispatcher } from "undici";
import { PACKAGE } from "./package-name";
import type { ProxyEnvironment } from "./proxy-route";

/**
 * Options of {@link createUndiciTransport}. Every field is optional.
 *
 * @example
 * ```ts
 * const options: UndiciTransportOptions = { ca: readFileSync("corp-root.pem", "utf8"), proxy: true, maxIdentities: 8 };
 * ```
 */
export interface UndiciTransportOptions {
  /**
   * Extra CA certificates (PEM) trusted for every request, on top of the system store,
   * `NODE_EXTRA_CA_CERTS` and each request's own `ca`. Also trusted for an `https://` proxy.
   */
  ca?: string | readonly string[] | undefined;
  /**
   * A ready undici Dispatcher of yours, used for requests that present no client certificate, carry
   * no per-request `ca` or pin, allow a proxy (`proxy: "environment"`) and do not go to a loopback or
   * link-local address. Every other request uses this transport's own pools, so IMDS and other
   * local endpoints never reach a proxy your dispatcher might use. You keep ownership: `close()`
   * does not close it.
   */
  dispatcher?: Dispatcher | undefined;
  /**
   * Options for every undici Agent this transport creates (one per client identity), e.g.
   * `keepAliveTimeout`, `connections`, `pipelining`. `connect` and `factory` are the transport's.
   */
  agentOptions?: Omit<Agent.Options, "connect" | "factory"> | undefined;
  /** Budget for TCP connect plus TLS handshake (and for a proxy's CONNECT answer). @default 10000 */
  connectTimeoutMs?: number | undefined;
  /** Wall-clock limit for the response headers, enforced by undici. @default 300000 */
  headersTimeoutMs?: number | undefined;
  /** Wall-clock limit between two body chunks, enforced by undici. @default 300000 */
  bodyTimeoutMs?: number | undefined;
  /** Largest response body accepted; larger ones fail with `response_too_large`. @default 1048576 (1 MiB) */
  maxResponseBytes?: number | undefined;
  /**
   * Proxy support, off by default. `true` reads `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` (either case)
   * from `process.env` once, when the transport is created; an object gives the same settings
   * explicitly. Only requests with `proxy: "environment"` use it; loopback and link-local
   * destinations (IMDS) and pinned requests are always direct.
   * @default false
   */
  proxy?: boolean | ProxyEnvironment | undefined;
  /**
   * How many connection pools (one per client identity and trust setting) stay open; the least
   * recently used is closed gracefully beyond that.
   * @default 16
   */
  maxIdentities?: number | undefined;
  /** Clock that measures each request's `timeoutMs`; inject a test clock in tests. @default systemClock */
  clock?: Clock | undefined;
  /** DNS lookup for direct connections (`dns.lookup` signature). @default dns.lookup */
  lookup?: LookupFunction | undefined;
}

/** Checks options eagerly so mistakes fail at construction with a message naming the option. */
export function validateOptions(options: UndiciTransportOptions): void {
  if (typeof options !== "object" || options === null) {
    throw invalidOptions(PACKAGE, "createUndiciTransport takes one options object (or nothing).");
  }
  positiveInteger(options.maxResponseBytes, "maxResponseBytes");
  positiveInteger(options.maxIdentities, "maxIdentities");
  positiveInteger(options.connectTimeoutMs, "connectTimeoutMs");
  positiveInteger(options.headersTimeoutMs, "headersTimeoutMs", true);
  positiveInteger(options.bodyTimeoutMs, "bodyTimeoutMs", true);
  if (options.ca !== undefined) {
    const list = typeof options.ca === "string" ? [options.ca] : options.ca;
    if (!Array.isArray(list) || list.some((pem) => typeof pem !== "string" || !pem.includes("-----BEGIN"))) {
      throw invalidOptions(
        PACKAGE,
        "`ca` must be PEM text or a list of PEM texts (-----BEGIN CERTIFICATE-----).",
      );
    }
  }
  if (options.dispatcher !== undefined && typeof options.dispatcher?.dispatch !== "function") {
    throw invalidOptions(
      PACKAGE,
      "`dispatcher` must be an undici Dispatcher (an Agent, Pool, ProxyAgent, ...).",
    );
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
