export type { ProxyEnvironment } from "@certbound/core/transport-kit";
export { isAlwaysDirect } from "@certbound/core/transport-kit";
export type { UndiciTransportOptions } from "./options";
export type { DispatcherForOptions, UndiciTransport } from "./undici-transport";
export { createUndiciTransport } from "./undici-transport";
