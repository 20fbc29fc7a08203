/** Prefix of every message this package writes, so errors say where they come from. */
export const PACKAGE = "@certbound/resource-server";
