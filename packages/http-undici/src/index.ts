export type { UndiciTransportOptions } from "./options";
export type { ProxyEnvironment } from "./proxy-route";
export { isAlwaysDirect } from "./proxy-route";
export type { DispatcherForOptions, UndiciTransport } from "./undici-transport";
export { createUndiciTransport } from "./undici-transport";
