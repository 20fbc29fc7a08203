export type { ProxyEnvironment } from "@certbound/core/transport-kit";
export { isAlwaysDirect } from "@certbound/core/transport-kit";
export type { UndiciTransportOptions } from "./options";
export type { PopFetch, PopFetchInit, PopFetchOptions } from "./pop-fetch";
export { createPopFetch } from "./pop-fetch";
export type { DispatcherForOptions, UndiciTransport } from "./undici-transport";
export { createUndiciTransport } from "./undici-transport";
