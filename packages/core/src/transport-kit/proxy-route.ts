import { BlockList, isIP } from "node:net";
import { invalidOptions } from "../protocol/errors";

/**
 * Proxy settings in the shape of the `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` environment
 * variables. Pass them explicitly (tests, apps with their own configuration) or let `proxy: true`
 * read them from `process.env`.
 *
 * @public
 * @example
 * ```ts
 * const proxy: ProxyEnvironment = { httpsProxy: "http://proxy.corp:3128", noProxy: "corp.example,.internal" };
 * ```
 */
export interface ProxyEnvironment {
  /** Proxy for `https:` URLs; falls back to `httpProxy` when absent (as undici's EnvHttpProxyAgent does). */
  readonly httpsProxy?: string | undefined;
  /** Proxy for `http:` URLs. */
  readonly httpProxy?: string | undefined;
  /**
   * Hosts that bypass the proxy, comma- or space-separated: `*` (everything), `example.com`
   * (the host and its subdomains, a leading `.` or `*.` means the same), `host:port`, an IP
   * address, or an IPv4/IPv6 CIDR range (`10.0.0.0/8`).
   */
  readonly noProxy?: string | undefined;
}

/**
 * Proxy settings after validation, ready for {@link proxyFor}.
 *
 * @public
 * @example
 * ```ts
 * const routes: ProxyRoutes = proxyRoutes({ httpsProxy: "http://proxy.corp:3128" }, "my-transport");
 * routes.bypass("example.com", 443); // false
 * ```
 */
export interface ProxyRoutes {
  readonly httpsProxy: URL | undefined;
  readonly httpProxy: URL | undefined;
  readonly bypass: (hostname: string, port: number) => boolean;
}

// Link-local (IMDS lives at 169.254.169.254) and loopback are never proxied, whatever the settings:
// a proxy cannot reach them, and sending IMDS traffic to one would leak identity requests.
const alwaysDirect = new BlockList();
alwaysDirect.addSubnet("127.0.0.0", 8, "ipv4");
alwaysDirect.addSubnet("169.254.0.0", 16, "ipv4");
alwaysDirect.addAddress("0.0.0.0", "ipv4");
alwaysDirect.addAddress("::1", "ipv6");
alwaysDirect.addAddress("::", "ipv6");
alwaysDirect.addSubnet("fe80::", 10, "ipv6");

/**
 * True for destinations that never go through a proxy: loopback (127.0.0.0/8, ::1, `localhost`
 * and `*.localhost`), link-local (169.254.0.0/16, fe80::/10, IPv4-mapped forms included) and the
 * unspecified address. Decided on the URL's host as written, before any DNS lookup.
 *
 * @public
 * @example
 * ```ts
 * isAlwaysDirect("169.254.169.254"); // true
 * isAlwaysDirect("[::1]"); // true
 * isAlwaysDirect("login.microsoftonline.com"); // false
 * ```
 */
export function isAlwaysDirect(hostname: string): boolean {
  const host = unbracket(hostname.toLowerCase()).replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  const family = isIP(host);
  if (family === 0) return false;
  return alwaysDirect.check(host, family === 4 ? "ipv4" : "ipv6");
}

/**
 * Reads `https_proxy`/`HTTPS_PROXY`, `http_proxy`/`HTTP_PROXY` and `no_proxy`/`NO_PROXY` (lower case
 * first, as curl and undici do).
 *
 * @public
 * @example
 * ```ts
 * const routes = proxyRoutes(proxyEnvironmentFromProcess(), "@my-scope/my-transport");
 * ```
 */
export function proxyEnvironmentFromProcess(env: NodeJS.ProcessEnv = process.env): ProxyEnvironment {
  return {
    httpsProxy: env.https_proxy ?? env.HTTPS_PROXY,
    httpProxy: env.http_proxy ?? env.HTTP_PROXY,
    noProxy: env.no_proxy ?? env.NO_PROXY,
  };
}

/**
 * Validates proxy settings once, eagerly, so a typo fails at construction with a clear message.
 * `packageName` prefixes the `invalid_options` message, so it says which package was misconfigured.
 *
 * @public
 * @example
 * ```ts
 * const routes = proxyRoutes({ httpsProxy: "http://127.0.0.1:3128" }, "@my-scope/my-transport");
 * proxyFor(new URL("https://example.com/"), routes); // URL of the proxy
 * ```
 */
export function proxyRoutes(environment: ProxyEnvironment, packageName: string): ProxyRoutes {
  return {
    httpsProxy: proxyUrl(environment.httpsProxy, "httpsProxy", packageName),
    httpProxy: proxyUrl(environment.httpProxy, "httpProxy", packageName),
    bypass: parseNoProxy(environment.noProxy ?? ""),
  };
}

/**
 * Turns a transport's `proxy` option into routes: `true` reads the environment now, an object is
 * used as given, `false` or absent means no proxy at all.
 *
 * @public
 * @example
 * ```ts
 * const routes = resolveProxyOption(options.proxy, "@my-scope/my-transport"); // undefined: always direct
 * ```
 */
export function resolveProxyOption(
  option: boolean | ProxyEnvironment | undefined,
  packageName: string,
): ProxyRoutes | undefined {
  if (option === true) return proxyRoutes(proxyEnvironmentFromProcess(), packageName);
  return typeof option === "object" ? proxyRoutes(option, packageName) : undefined;
}

/**
 * The proxy a request to `url` goes through, or `undefined` for a direct connection.
 *
 * @public
 * @example
 * ```ts
 * proxyFor(new URL("http://169.254.169.254/metadata"), routes); // undefined, always
 * ```
 */
export function proxyFor(url: URL, routes: ProxyRoutes): URL | undefined {
  if (isAlwaysDirect(url.hostname)) return undefined;
  const proxy = url.protocol === "https:" ? (routes.httpsProxy ?? routes.httpProxy) : routes.httpProxy;
  if (!proxy) return undefined;
  const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
  return routes.bypass(unbracket(url.hostname.toLowerCase()), port) ? undefined : proxy;
}

function proxyUrl(value: string | undefined, name: string, packageName: string): URL | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  let url: URL;
  try {
    // Like curl, accept "host:port" without a scheme as an HTTP proxy.
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    throw invalidOptions(packageName, `proxy.${name} is not a URL. Use the form http://host:port.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw invalidOptions(
      packageName,
      `proxy.${name} must be an http:// or https:// proxy URL, got a ${url.protocol} URL.`,
    );
  }
  return url;
}

function parseNoProxy(value: string): (hostname: string, port: number) => boolean {
  const entries = value
    .split(/[,\s]+/)
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean);
  if (entries.includes("*")) return () => true;
  const ranges = new BlockList();
  let hasRanges = false;
  const names: Array<{ host: string; port: number }> = [];
  for (const entry of entries) {
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    if (cidr) {
      const address = unbracket(cidr[1] as string);
      const family = isIP(address);
      if (family !== 0) {
        ranges.addSubnet(address, Number(cidr[2]), family === 4 ? "ipv4" : "ipv6");
        hasRanges = true;
      }
      continue;
    }
    const withPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    const host = unbracket(withPort ? (withPort[1] as string) : entry).replace(/^\*?\./, "");
    names.push({ host, port: withPort ? Number(withPort[2]) : 0 });
  }
  return (hostname, port) => {
    for (const entry of names) {
      if (entry.port !== 0 && entry.port !== port) continue;
      if (hostname === entry.host || hostname.endsWith(`.${entry.host}`)) return true;
    }
    if (!hasRanges) return false;
    const family = isIP(hostname);
    return family !== 0 && ranges.check(hostname, family === 4 ? "ipv4" : "ipv6");
  };
}

function unbracket(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}
