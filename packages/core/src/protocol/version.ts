/**
 * The library identity sent as `x-client-SKU` / `x-client-Ver`.
 *
 * @internal
 * @example
 * ```ts
 * headers["x-client-sku"] = CLIENT_SKU;
 * ```
 */
export const CLIENT_SKU = "certbound.node";
/**
 * The version of @certbound/core; a test keeps it equal to package.json.
 *
 * @internal
 * @example
 * ```ts
 * headers["x-client-ver"] = CLIENT_VERSION;
 * ```
 */
export const CLIENT_VERSION = "0.1.0";
