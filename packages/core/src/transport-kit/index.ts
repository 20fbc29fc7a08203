/**
 * `@certbound/core/transport-kit`: the parts every certbound HTTP transport needs, for people
 * writing their own `HttpTransport` on an HTTP client of their choice (and used by
 * `@certbound/http-undici` and `@certbound/http-axios`). Only Node built-ins, no HTTP client.
 *
 * - routing: {@link proxyRoutes}, {@link proxyFor} and {@link isAlwaysDirect} (IMDS and loopback
 *   never go through a proxy), {@link openTunnel} for CONNECT tunnels;
 * - trust: {@link secureContextFor} (one TLS context per client identity), server pins;
 * - pooling: {@link BoundedPools}, one pool per identity, never shared across identities;
 * - one attempt: {@link Attempt} (timeout on the injected clock, abort), {@link parseRequestTarget}
 *   (which also refuses unsendable headers, {@link assertSendableHeaders}), {@link readCappedBody},
 *   {@link decodeResponseBody} (content-encoding within the cap), {@link flattenHeaders};
 * - errors: {@link mapTransportError} and small factories giving the contract's error codes;
 * - options: {@link CommonTransportOptions}, {@link validateTransportOptions} and
 *   {@link resolveTransportOptions}; {@link poolScope} keys pools by identity, trust, pin and route.
 *
 * Check the finished transport with `testHttpTransport` from `@certbound/testing`.
 *
 * @example
 * ```ts
 * import { systemClock, type HttpTransport } from "@certbound/core";
 * import { abortedError, Attempt, mapTransportError, parseRequestTarget } from "@certbound/core/transport-kit";
 *
 * const PACKAGE = "@my-scope/my-transport";
 * const transport: HttpTransport = {
 *   async send(request) {
 *     if (request.signal?.aborted) throw abortedError(request.signal);
 *     const { endpoint, url } = parseRequestTarget(request, PACKAGE);
 *     const attempt = new Attempt(systemClock, request.timeoutMs, request.signal);
 *     try {
 *       return await myClient.send(url, { signal: attempt.signal });
 *     } catch (error) {
 *       throw attempt.failure(endpoint) ?? mapTransportError(error, { endpoint, withCertificate: !!request.clientIdentity });
 *     } finally {
 *       attempt.dispose();
 *     }
 *   },
 * };
 * ```
 *
 * @packageDocumentation
 */
export { abortedError } from "../seams/abort";
export { DEFAULT_MAX_RESPONSE_BYTES } from "../seams/transport";
export { Attempt } from "./attempt";
export { BoundedPools } from "./bounded-pools";
export type { DecodeBodyOptions } from "./decode-body";
export { DEFAULT_ACCEPT_ENCODING, decodeResponseBody } from "./decode-body";
export { flattenHeaders } from "./flatten-headers";
export type { TransportErrorContext, TransportFailure } from "./map-transport-error";
export { describeTransportFailure, mapTransportError } from "./map-transport-error";
export type { ProxyEnvironment, ProxyRoutes } from "./proxy-route";
export {
  isAlwaysDirect,
  proxyEnvironmentFromProcess,
  proxyFor,
  proxyRoutes,
  resolveProxyOption,
} from "./proxy-route";
export type { ReadCappedBodyOptions, ResponseBodyStream } from "./read-capped-body";
export { readCappedBody, readCappedBytes } from "./read-capped-body";
export { assertSendableHeaders } from "./request-headers";
export type { RequestTarget } from "./request-target";
export { parseRequestTarget } from "./request-target";
export { matchesPin, normalizePin, PIN_MISMATCH, parsePinnedThumbprint, pinMismatch } from "./server-pin";
export { responseTooLarge, transportClosed, unusableTlsMaterial } from "./transport-errors";
export type { CommonTransportOptions, OptionNames, ResolvedTransportOptions } from "./transport-options";
export {
  assertDurationOption,
  assertIntegerOption,
  COMMON_TRANSPORT_OPTION_KEYS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_IDENTITIES,
  resolveTransportOptions,
  validateTransportOptions,
} from "./transport-options";
export type { PoolScope, PoolScopeInput } from "./trust";
export { caList, identityPoolId, poolScope, poolSecureContext, secureContextFor, trustId } from "./trust";
export type { TunnelOptions } from "./tunnel";
export { openTunnel, PROXY_REFUSED } from "./tunnel";
