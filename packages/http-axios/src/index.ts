export type { ProxyEnvironment } from "@certbound/core/transport-kit";
export { isAlwaysDirect } from "@certbound/core/transport-kit";
export type { AxiosTransport } from "./axios-transport";
export { createAxiosTransport } from "./axios-transport";
export type { AxiosTransportOptions } from "./options";
