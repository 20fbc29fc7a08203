import { isIP } from "node:net";
import { CertboundError } from "@certbound/core";
import { type ParsedAuthority, parseAuthority } from "./authority";
import { PACKAGE } from "./package-name";
import { isValidRegionName } from "./region-name";

/**
 * Inputs of {@link mtlsTokenEndpoint} and {@link bearerTokenEndpoint}.
 *
 * @public
 */
export interface TokenEndpointInput {
  /** The tenant-specific authority, e.g. `https://login.microsoftonline.com/<tenant>`. */
  authority: string | ParsedAuthority;
  /** An Azure region such as `westus3`; a name that is not letters and digits is ignored. */
  region?: string | undefined;
}

// The public-cloud aliases that have an mTLS endpoint. `sts.windows.net` is a public-cloud alias
// too, but not a `login.` host: MSAL.NET refuses it for mTLS PoP
// (RegionAndMtlsDiscoveryProvider.cs; MtlsPopTests.NonLoginHosts_ThrowsMsalClientException_Async),
// so it only serves Bearer requests.
const PUBLIC_MTLS_ALIASES = new Set([
  "login.microsoftonline.com",
  "login.windows.net",
  "login.microsoft.com",
]);
// Every public-cloud alias: their regional (Bearer) endpoints live on one host.
const PUBLIC_CLOUD_HOSTS = new Set([...PUBLIC_MTLS_ALIASES, "sts.windows.net"]);
const PUBLIC_MTLS_HOST = "mtlsauth.microsoft.com";
const PUBLIC_REGIONAL_HOST = "login.microsoft.com";

// Legacy sovereign-cloud hosts that have no mTLS endpoint, and the host that has one. The same host
// is the preferred network of their regional (Bearer) endpoints: MSAL.NET sends
// `login.usgovcloudapi.net` with a region to `{region}.login.microsoftonline.us`
// (ClientCredentialWithRegionTests.PublicAndSovereignCloud_UsesPreferredNetwork_AndNoDiscovery_Async).
const MTLS_UNSUPPORTED: Readonly<Record<string, string>> = {
  "login.usgovcloudapi.net": "login.microsoftonline.us",
  "login.chinacloudapi.cn": "login.partner.microsoftonline.cn",
};

const TOKEN_PATH = "oauth2/v2.0/token";

const withPort = (hostname: string, authority: ParsedAuthority) =>
  authority.host === authority.hostname
    ? hostname
    : `${hostname}${authority.host.slice(authority.hostname.length)}`;

const usableRegion = (region: string | undefined, hostname: string) =>
  isValidRegionName(region) && isIP(hostname) === 0 && hostname !== "localhost"
    ? region.toLowerCase()
    : undefined;

/**
 * The mTLS PoP token endpoint of an authority (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s2-1-mtls-host): the leading `login.` of the
 * host becomes `mtlsauth.` (the public-cloud `login.` aliases map to `mtlsauth.microsoft.com`),
 * prefixed with `{region}.` when a valid region is given. Hosts without an mTLS endpoint, among them
 * every host that does not start with `login.` (`sts.windows.net` too), are rejected with
 * `mtls_pop_not_supported_for_environment` before any network call.
 *
 * @public
 * @example
 * ```ts
 * mtlsTokenEndpoint({ authority: "https://login.microsoftonline.com/contoso.com", region: "westus3" });
 * // "https://westus3.mtlsauth.microsoft.com/contoso.com/oauth2/v2.0/token"
 * ```
 */
export function mtlsTokenEndpoint(input: TokenEndpointInput): string {
  const authority = typeof input.authority === "string" ? parseAuthority(input.authority) : input.authority;
  const { hostname, tenant } = authority;
  const instead = MTLS_UNSUPPORTED[hostname];
  if (instead !== undefined) {
    throw new CertboundError(
      "mtls_pop_not_supported_for_environment",
      `${PACKAGE}: mTLS Proof-of-Possession is not available on ${hostname}. Use the authority https://${instead}/${tenant} instead.`,
    );
  }
  let mtlsHost: string;
  if (PUBLIC_MTLS_ALIASES.has(hostname)) mtlsHost = PUBLIC_MTLS_HOST;
  else if (hostname.startsWith("login.") && hostname.length > "login.".length)
    mtlsHost = `mtlsauth.${hostname.slice("login.".length)}`;
  else {
    throw new CertboundError(
      "mtls_pop_not_supported_for_environment",
      `${PACKAGE}: mTLS Proof-of-Possession needs an Entra ID authority whose host starts with "login." (e.g. https://login.microsoftonline.com/${tenant}); ${hostname} has no known mTLS endpoint. For a private cloud or a local emulator, set \`mtlsAuthorityHost\`.`,
    );
  }
  const region = usableRegion(input.region, hostname);
  const host = withPort(region ? `${region}.${mtlsHost}` : mtlsHost, authority);
  return `https://${host}/${tenant}/${TOKEN_PATH}`;
}

/**
 * The regular (Bearer) token endpoint of an authority: the authority's own host, or with a valid
 * region the regional host of the cloud's preferred network: `{region}.login.microsoft.com` for
 * every public-cloud alias, `{region}.login.microsoftonline.us` for `login.usgovcloudapi.net`,
 * `{region}.login.partner.microsoftonline.cn` for `login.chinacloudapi.cn`, and `{region}.{host}`
 * elsewhere (as MSAL.NET does).
 *
 * @public
 * @example
 * ```ts
 * bearerTokenEndpoint({ authority: "https://login.microsoftonline.com/contoso.com", region: "westus3" });
 * // "https://westus3.login.microsoft.com/contoso.com/oauth2/v2.0/token"
 * ```
 */
export function bearerTokenEndpoint(input: TokenEndpointInput): string {
  const authority = typeof input.authority === "string" ? parseAuthority(input.authority) : input.authority;
  const { hostname, tenant } = authority;
  const region = usableRegion(input.region, hostname);
  if (!region) return `${authority.origin}/${tenant}/${TOKEN_PATH}`;
  const preferred = PUBLIC_CLOUD_HOSTS.has(hostname)
    ? PUBLIC_REGIONAL_HOST
    : (MTLS_UNSUPPORTED[hostname] ?? hostname);
  const regional = `${region}.${preferred}`;
  return `https://${withPort(regional, authority)}/${tenant}/${TOKEN_PATH}`;
}

/**
 * The token endpoint under an `authorityHost` / `mtlsAuthorityHost` override (a private cloud, a
 * local emulator): `${host}/${tenant}/oauth2/v2.0/token`, no region.
 *
 * @example
 * ```ts
 * overriddenTokenEndpoint("https://127.0.0.1:8443", "my-tenant"); // "https://127.0.0.1:8443/my-tenant/oauth2/v2.0/token"
 * ```
 */
export function overriddenTokenEndpoint(host: string, tenant: string): string {
  return `${host.replace(/\/+$/, "")}/${tenant}/${TOKEN_PATH}`;
}
