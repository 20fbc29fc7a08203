/** The library identity sent as `x-client-SKU` / `x-client-Ver`. */
export const CLIENT_SKU = "certbound.node";
/** Kept in step with package.json by the release process. */
export const CLIENT_VERSION = "0.1.0";
