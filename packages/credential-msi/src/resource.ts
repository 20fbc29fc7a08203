import { invalidOptions } from "@certbound/core/credential-kit";
import { PACKAGE } from "./package-name";

const DEFAULT_SUFFIX = "/.default";

/**
 * Reads the `resource` of a request. Managed identity asks for one resource; a v2 scope such as
 * `https://vault.azure.net/.default` is accepted too and reduced to its resource, because callers
 * coming from the confidential client naturally pass scopes.
 *
 * @example
 * ```ts
 * normalizeResource("https://vault.azure.net/.default"); // "https://vault.azure.net"
 * normalizeResource("https://management.azure.com/");    // "https://management.azure.com/" (kept as given)
 * ```
 */
export function normalizeResource(input: unknown): string {
  if (typeof input !== "string" || input.trim() === "") {
    throw invalidOptions(
      PACKAGE,
      "`resource` must be a non-empty string such as `https://vault.azure.net` (or the scope `https://vault.azure.net/.default`).",
    );
  }
  let resource = input.trim();
  if (/\s/.test(resource)) {
    throw invalidOptions(
      PACKAGE,
      "`resource` must be one resource without spaces; managed identity issues a token for one resource at a time.",
    );
  }
  if (resource.toLowerCase().endsWith(DEFAULT_SUFFIX)) resource = resource.slice(0, -DEFAULT_SUFFIX.length);
  if (resource === "") {
    throw invalidOptions(PACKAGE, "`resource` must name a resource before `/.default`.");
  }
  return resource;
}

/**
 * The v2 scope sent to Entra for a PoP token: the resource without trailing slashes, then
 * `/.default` (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s3-6-mtls-token).
 *
 * @example
 * ```ts
 * scopeForResource("https://management.azure.com/"); // "https://management.azure.com/.default"
 * ```
 */
export function scopeForResource(resource: string): string {
  return `${resource.replace(/\/+$/, "")}${DEFAULT_SUFFIX}`;
}
