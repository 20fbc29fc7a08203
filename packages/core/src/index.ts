/**
 * `@certbound/core`: what an application uses. The credential contract ({@link Credential},
 * {@link TokenResult}), calling a resource over mutual TLS ({@link ResourceCaller},
 * {@link MtlsPopTokenAcquirer}), errors, the transport, cache-store, logger and clock seams, and
 * the diagnostics channels. Credential authors find the token manager, retry engine, request
 * building and certificate utilities in `@certbound/core/credential-kit`; transport authors find
 * theirs in `@certbound/core/transport-kit`.
 *
 * @example
 * ```ts
 * import { ResourceCaller } from "@certbound/core";
 *
 * const caller = new ResourceCaller({ transport });
 * const response = await caller.call(credential, "https://orders.example/api", { scopes: [scope] });
 * ```
 *
 * @packageDocumentation
 */
export type {
  AcquireEvent,
  CacheLookupEvent,
  CertificateMintEvent,
  DiagnosticsError,
  HttpRequestEvent,
  RefreshEvent,
  ResourceCallEvent,
  RetryDiagnosticsEvent,
} from "./diagnostics/diagnostics";
export { DIAGNOSTICS_CHANNELS } from "./diagnostics/diagnostics";
export type { MtlsPopAcquireOptions } from "./pop/mtls-pop-token-acquirer";
export { MtlsPopTokenAcquirer, verifyMtlsPopResult } from "./pop/mtls-pop-token-acquirer";
export type { CredentialCallInit, ResourceCallerOptions, ResourceCallInit } from "./pop/resource-caller";
export { ResourceCaller } from "./pop/resource-caller";
export type { AuthorizationScheme } from "./protocol/authorization-header";
export { createAuthorizationHeader } from "./protocol/authorization-header";
export type { CertboundErrorCode, CertboundErrorOptions, ServiceErrorDetails } from "./protocol/errors";
export { CertboundError, isCertboundError, ServiceError } from "./protocol/errors";
export type { CacheStore, CacheWriteOptions } from "./seams/cache-store";
export type { Clock } from "./seams/clock";
export { systemClock } from "./seams/clock";
export type { Credential, GetTokenOptions } from "./seams/credential";
export { isCredential } from "./seams/credential";
export type { Logger, LogLevel } from "./seams/logger";
export { silentLogger } from "./seams/logger";
export type { BindingCertificate, TokenMetadata, TokenResult, TokenSource, TokenType } from "./seams/result";
export { MTLS_POP_TOKEN_TYPE } from "./seams/result";
export type {
  ClientTlsIdentity,
  HttpRequest,
  HttpResponse,
  HttpTransport,
  ProxyPolicy,
} from "./seams/transport";
export type { MemoryCacheStore, MemoryCacheStoreOptions } from "./token-cache/memory-cache-store";
export { createMemoryCacheStore } from "./token-cache/memory-cache-store";
