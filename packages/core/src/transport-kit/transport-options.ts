import type { LookupFunction } from "node:net";
import type { SecureContext } from "node:tls";
import { durationTooLong } from "../options/duration-option";
import { assertKnownKeys } from "../options/unknown-keys";
import { invalidOptions } from "../protocol/errors";
import { type Clock, MAX_TIMER_MS, systemClock } from "../seams/clock";
import { DEFAULT_MAX_RESPONSE_BYTES } from "../seams/transport";
import { type ProxyEnvironment, type ProxyRoutes, resolveProxyOption } from "./proxy-route";
import { caList, secureContextFor } from "./trust";

// The keys of ProxyEnvironment (`satisfies`: none missing, none extra).
const PROXY_KEYS = Object.keys({
  httpsProxy: true,
  httpProxy: true,
  noProxy: true,
} satisfies Record<keyof ProxyEnvironment, true>);

/**
 * How long a transport waits, by default, for TCP connect plus TLS handshake (and for a proxy's
 * CONNECT answer): 10 s.
 *
 * @public
 * @example
 * ```ts
 * const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
 * ```
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * How many connection pools (one per client identity and trust setting) a transport keeps open
 * by default: 16.
 *
 * @public
 * @example
 * ```ts
 * const pools = new BoundedPools(options.maxIdentities ?? DEFAULT_MAX_IDENTITIES, (pool) => pool.destroy());
 * ```
 */
export const DEFAULT_MAX_IDENTITIES = 16;

/**
 * The keys of {@link CommonTransportOptions}: a transport adds its own and refuses anything else
 * with `assertKnownKeys` from `@certbound/core`, so a misspelt option is not silently ignored.
 *
 * @public
 * @example
 * ```ts
 * assertKnownKeys(PACKAGE, options, [...COMMON_TRANSPORT_OPTION_KEYS, "agentOptions"], "createMyTransport options");
 * ```
 */
export const COMMON_TRANSPORT_OPTION_KEYS: readonly string[] = Object.keys({
  ca: true,
  connectTimeoutMs: true,
  maxResponseBytes: true,
  proxy: true,
  maxIdentities: true,
  clock: true,
  lookup: true,
} satisfies Record<keyof CommonTransportOptions, true>);

/**
 * The options every certbound transport accepts, whatever HTTP client it wraps. Extend it with
 * the client's own options and check it with {@link validateTransportOptions}.
 *
 * @public
 * @example
 * ```ts
 * interface MyTransportOptions extends CommonTransportOptions {
 *   keepAliveMs?: number | undefined;
 * }
 * ```
 */
export interface CommonTransportOptions {
  /**
   * Extra CA certificates (PEM) trusted for every request, on top of the system store,
   * `NODE_EXTRA_CA_CERTS` and each request's own `ca`. Also trusted for an `https://` proxy.
   */
  ca?: string | readonly string[] | undefined;
  /** Budget for TCP connect plus TLS handshake (and for a proxy's CONNECT answer). @default 10000 */
  connectTimeoutMs?: number | undefined;
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
   * How many connection pools (one per client identity and trust setting) stay open; the least
   * recently used is retired beyond that, letting requests in flight finish.
   * @default 16
   */
  maxIdentities?: number | undefined;
  /** Clock that measures each request's `timeoutMs`; inject a test clock in tests. @default systemClock */
  clock?: Clock | undefined;
  /** DNS lookup for direct connections (`dns.lookup` signature). @default dns.lookup */
  lookup?: LookupFunction | undefined;
}

/**
 * Who is validating: messages start with `packageName` and name `factoryName`.
 *
 * @public
 * @example
 * ```ts
 * const names: OptionNames = { packageName: "@my-scope/my-transport", factoryName: "createMyTransport" };
 * ```
 */
export interface OptionNames {
  readonly packageName: string;
  readonly factoryName: string;
}

/**
 * Checks the {@link CommonTransportOptions} eagerly, so mistakes fail at construction with an
 * `invalid_options` error naming the package and the option. Check the client's own options after
 * it (with {@link assertIntegerOption} for numbers).
 *
 * @public
 * @example
 * ```ts
 * export function createMyTransport(options: MyTransportOptions = {}) {
 *   validateTransportOptions(options, { packageName: "@my-scope/my-transport", factoryName: "createMyTransport" });
 *   assertIntegerOption("@my-scope/my-transport", "keepAliveMs", options.keepAliveMs, 0);
 *   // ...
 * }
 * ```
 */
export function validateTransportOptions(options: CommonTransportOptions, names: OptionNames): void {
  const { packageName } = names;
  if (typeof options !== "object" || options === null) {
    throw invalidOptions(packageName, `${names.factoryName} takes one options object (or nothing).`);
  }
  assertIntegerOption(packageName, "maxResponseBytes", options.maxResponseBytes);
  assertIntegerOption(packageName, "maxIdentities", options.maxIdentities);
  assertDurationOption(packageName, "connectTimeoutMs", options.connectTimeoutMs);
  if (options.ca !== undefined) {
    const list = typeof options.ca === "string" ? [options.ca] : options.ca;
    if (!Array.isArray(list) || list.some((pem) => typeof pem !== "string" || !pem.includes("-----BEGIN"))) {
      throw invalidOptions(
        packageName,
        "`ca` must be PEM text or a list of PEM texts (-----BEGIN CERTIFICATE-----).",
      );
    }
  }
  if (options.lookup !== undefined && typeof options.lookup !== "function") {
    throw invalidOptions(packageName, "`lookup` must be a function with the signature of dns.lookup.");
  }
  if (
    options.proxy !== undefined &&
    typeof options.proxy !== "boolean" &&
    typeof options.proxy !== "object"
  ) {
    throw invalidOptions(packageName, "`proxy` must be true, false or { httpsProxy, httpProxy, noProxy }.");
  }
  if (typeof options.proxy === "object" && options.proxy !== null) {
    assertKnownKeys(packageName, options.proxy, PROXY_KEYS, "`proxy`");
  }
}

/**
 * Throws `invalid_options` unless `value` is absent or an integer of at least `min` (1 by default;
 * 0 where zero means "off").
 *
 * @public
 * @example
 * ```ts
 * assertIntegerOption("@my-scope/my-transport", "idleTimeoutMs", options.idleTimeoutMs, 0);
 * ```
 */
export function assertIntegerOption(
  packageName: string,
  name: string,
  value: number | undefined,
  min: 0 | 1 = 1,
): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min) {
    throw invalidOptions(
      packageName,
      `\`${name}\` must be a ${min === 0 ? "non-negative" : "positive"} integer, got ${String(value)}.`,
    );
  }
}

/**
 * Throws `invalid_options` unless `value` is absent or an integer number of milliseconds of at
 * least `min` (1 by default; 0 where zero means "off") and at most 2^31-1, the longest timer
 * Node.js can hold (a longer one silently fires after 1 ms).
 *
 * @public
 * @example
 * ```ts
 * assertDurationOption("@my-scope/my-transport", "idleTimeoutMs", options.idleTimeoutMs, 0);
 * ```
 */
export function assertDurationOption(
  packageName: string,
  name: string,
  value: number | undefined,
  min: 0 | 1 = 1,
): void {
  assertIntegerOption(packageName, name, value, min);
  if (value !== undefined && value > MAX_TIMER_MS) throw durationTooLong(packageName, name, value);
}

/**
 * The {@link CommonTransportOptions} with every default applied, the proxy settings parsed and
 * the proxy's TLS context built: what a transport keeps for its lifetime.
 *
 * @public
 * @example
 * ```ts
 * const { clock, maxResponseBytes, proxies }: ResolvedTransportOptions = resolveTransportOptions(options, PACKAGE);
 * ```
 */
export interface ResolvedTransportOptions {
  readonly clock: Clock;
  readonly maxResponseBytes: number;
  readonly connectTimeoutMs: number;
  readonly maxIdentities: number;
  readonly lookup: LookupFunction | undefined;
  /** The transport-wide extra CAs (`ca`), as a list. */
  readonly cas: readonly string[];
  /** Where proxied requests go; `undefined` when proxy support is off. */
  readonly proxies: ProxyRoutes | undefined;
  /** Trust for an `https://` proxy (system store plus `cas`); `undefined` means Node's default. */
  readonly proxySecureContext: SecureContext | undefined;
}

/**
 * Applies the defaults of the {@link CommonTransportOptions} (call it after
 * {@link validateTransportOptions}). `proxy: true` reads the environment here, once.
 *
 * @public
 * @example
 * ```ts
 * validateTransportOptions(options, { packageName: PACKAGE, factoryName: "createMyTransport" });
 * const settings = resolveTransportOptions(options, PACKAGE);
 * const pools = new BoundedPools(settings.maxIdentities, (pool) => pool.destroy());
 * ```
 */
export function resolveTransportOptions(
  options: CommonTransportOptions,
  packageName: string,
): ResolvedTransportOptions {
  // Frozen: pool scopes compare it by reference (see poolScope).
  const cas: readonly string[] = Object.freeze(caList(options.ca));
  const proxies = resolveProxyOption(options.proxy, packageName);
  return {
    clock: options.clock ?? systemClock,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    maxIdentities: options.maxIdentities ?? DEFAULT_MAX_IDENTITIES,
    lookup: options.lookup,
    cas,
    proxies,
    proxySecureContext: proxies && cas.length > 0 ? secureContextFor(undefined, cas) : undefined,
  };
}
