import { CertboundError } from "@certbound/core";
import { invalidOptions } from "@certbound/core/credential-kit";
import { PACKAGE } from "./package-name";

/**
 * An authority split into the parts the endpoints are built from.
 *
 * @public
 */
export interface ParsedAuthority {
  /** `https://host` (lower case, no trailing slash). */
  readonly origin: string;
  /** The host name, lower case, without a port. */
  readonly hostname: string;
  /** The host with its port, when one was given. */
  readonly host: string;
  /** The tenant id or domain from the first path segment. */
  readonly tenant: string;
  /** `origin/tenant`: the canonical form used in cache keys. */
  readonly canonical: string;
}

// Entra's multi-tenant aliases: an app token needs one tenant to be issued in.
const NOT_TENANTED = new Set(["common", "organizations", "consumers"]);
const TENANT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Parses and checks an authority such as `https://login.microsoftonline.com/<tenant>`.
 * Errors: `invalid_options` (not an https URL), `missing_tenanted_authority` (no tenant, or
 * `/common`, `/organizations`, `/consumers`).
 *
 * @public
 * @example
 * ```ts
 * parseAuthority("https://login.microsoftonline.com/contoso.onmicrosoft.com").tenant; // "contoso.onmicrosoft.com"
 * ```
 */
export function parseAuthority(authority: string): ParsedAuthority {
  let url: URL;
  try {
    url = new URL(authority);
  } catch {
    throw invalidOptions(
      PACKAGE,
      "`authority` must be a URL like https://login.microsoftonline.com/<tenant-id>.",
    );
  }
  if (url.protocol !== "https:") {
    throw invalidOptions(
      PACKAGE,
      "`authority` must use https, e.g. https://login.microsoftonline.com/<tenant-id>.",
    );
  }
  if (url.search || url.hash || url.username || url.password) {
    throw invalidOptions(PACKAGE, "`authority` must not carry a query, fragment or credentials.");
  }
  const segments = url.pathname.split("/").filter((s) => s.length > 0);
  const tenant = segments[0];
  if (tenant === undefined || NOT_TENANTED.has(tenant.toLowerCase())) {
    throw new CertboundError(
      "missing_tenanted_authority",
      `${PACKAGE}: the authority must name a tenant, e.g. https://${url.host}/<tenant-id>${tenant ? `, not /${tenant}` : ""}. App tokens (client credentials) are issued in one tenant: use your tenant id or domain.`,
    );
  }
  if (!TENANT.test(tenant)) {
    throw invalidOptions(PACKAGE, "the tenant in `authority` must be a tenant id (GUID) or a domain name.");
  }
  // Anything after the tenant (a trailing "/v2.0", "/oauth2/v2.0/token") is not part of the authority.
  if (segments.length > 2 || (segments.length === 2 && segments[1]?.toLowerCase() !== "v2.0")) {
    throw invalidOptions(
      PACKAGE,
      `\`authority\` must be the host and tenant only, e.g. https://${url.host}/${tenant}; the token endpoint path is added by the client.`,
    );
  }
  const origin = `https://${url.host.toLowerCase()}`;
  return {
    origin,
    hostname: url.hostname.toLowerCase(),
    host: url.host.toLowerCase(),
    tenant,
    canonical: `${origin}/${tenant}`,
  };
}

/**
 * Checks an `authorityHost` / `mtlsAuthorityHost` override: an https URL whose path (if any) is a
 * prefix the tenant is appended to. Returns it without a trailing slash.
 *
 * @example
 * ```ts
 * parseHostOverride("https://127.0.0.1:8443/", "mtlsAuthorityHost"); // "https://127.0.0.1:8443"
 * ```
 */
export function parseHostOverride(value: unknown, name: string): string {
  if (typeof value !== "string") {
    throw invalidOptions(PACKAGE, `\`${name}\` must be an https URL string, e.g. https://login.example.net.`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidOptions(PACKAGE, `\`${name}\` must be an https URL, e.g. https://login.example.net.`);
  }
  if (url.protocol !== "https:" || url.search || url.hash || url.username || url.password) {
    throw invalidOptions(
      PACKAGE,
      `\`${name}\` must be a plain https URL (no query, fragment or credentials), e.g. https://login.example.net.`,
    );
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}
