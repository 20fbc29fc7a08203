export type { AxiosTransport } from "./axios-transport";
export { createAxiosTransport } from "./axios-transport";
export type { AxiosTransportOptions } from "./options";
export type { ProxyEnvironment } from "./proxy-route";
export { isAlwaysDirect } from "./proxy-route";
