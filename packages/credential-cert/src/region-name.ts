/**
 * Whether a region name may go into a host name: letters and digits only (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s2-2-region).
 * Anything else is ignored, which means the global host is used.
 *
 * @public
 * @example
 * ```ts
 * isValidRegionName("westus3"); // true
 * isValidRegionName("west us"); // false
 * ```
 */
export function isValidRegionName(region: unknown): region is string {
  return typeof region === "string" && /^[a-zA-Z0-9]+$/.test(region);
}
