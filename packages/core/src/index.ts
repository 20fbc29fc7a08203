export type { AcquisitionBudgetOptions } from "./acquisition-budget";
export { AcquisitionBudget, DEFAULT_ACQUISITION_TIMEOUT_MS } from "./acquisition-budget";
export * as asn1 from "./asn1-der";
export type { AuthorizationScheme } from "./authorization-header";
export { createAuthorizationHeader } from "./authorization-header";
export type { CacheKeyParts } from "./cache-key";
export { tokenCacheKey } from "./cache-key";
export type { CacheStore, CacheWriteOptions } from "./cache-store";
export type {
  CertificateAuthority,
  CertificateKeyType,
  CertificateRequest,
  IssuedCertificate,
} from "./certificate/authority";
export { createCertificateAuthority, generateKeyPair } from "./certificate/authority";
export type { BindingCertificateInput } from "./certificate/binding-certificate";
export { createBindingCertificate } from "./certificate/binding-certificate";
export { keyIdentifier } from "./certificate/key-identifier";
export {
  certificateNotAfter,
  certificateNotBefore,
  parseDerCertificate,
  parsePemChain,
  toPem,
} from "./certificate/pem";
export { loadPrivateKey } from "./certificate/private-key";
export { x5tS256 } from "./certificate/x5t";
export type { Clock } from "./clock";
export {
  abortedError,
  isBackgroundSignal,
  keepAliveUntilSettled,
  MAX_TIMER_MS,
  markBackgroundSignal,
  onAbort,
  raceAbort,
  systemClock,
  throwIfAborted,
} from "./clock";
export { assertCorrelationId, MAX_CORRELATION_ID_LENGTH } from "./correlation-id";
export type { Credential, GetTokenOptions } from "./credential";
export { assertGetTokenOptions, isCredential } from "./credential";
export type { AcquiredToken, CredentialSource, SourceRequest } from "./credential-source";
export type {
  AcquireEvent,
  CacheLookupEvent,
  CertificateMintEvent,
  DiagnosticsError,
  HttpRequestEvent,
  RefreshEvent,
  ResourceCallEvent,
  RetryDiagnosticsEvent,
} from "./diagnostics";
export {
  currentAcquisition,
  DIAGNOSTICS_CHANNELS,
  diagnostics,
  diagnosticsError,
  runInAcquisition,
} from "./diagnostics";
export { durationOption, durationTooLong } from "./duration-option";
export type { CertboundErrorCode, CertboundErrorOptions, ServiceErrorDetails } from "./errors";
export { CertboundError, invalidOptions, isCertboundError, ServiceError } from "./errors";
export { EPOCH_THRESHOLD_SECONDS, halfLifeRefresh, parseExpiry } from "./expiry";
export { decodeJwtPayload, tokenBindingThumbprint } from "./jwt";
export type { Log, Logger, LogLevel } from "./logger";
export { createLog, silentLogger } from "./logger";
export { LruMap } from "./lru-map";
export type { MemoryCacheStore, MemoryCacheStoreOptions } from "./memory-cache-store";
export { createMemoryCacheStore } from "./memory-cache-store";
export type { MtlsPopAcquireOptions } from "./mtls-pop-token-acquirer";
export { MtlsPopTokenAcquirer, verifyMtlsPopResult } from "./mtls-pop-token-acquirer";
export type { ParseErrorOptions } from "./parse-error-response";
export { parseErrorResponse } from "./parse-error-response";
export { parseJsonBody, stringField } from "./parse-json-body";
export type { ParsedTokenResponse, ParseTokenResponseOptions } from "./parse-token-response";
export { parseTokenResponse } from "./parse-token-response";
export type { CredentialCallInit, ResourceCallerOptions, ResourceCallInit } from "./resource-caller";
export { decodeClaimsChallenge, parseBearerChallenge, ResourceCaller } from "./resource-caller";
export type { BindingCertificate, TokenMetadata, TokenResult, TokenSource, TokenType } from "./result";
export { MTLS_POP_TOKEN_TYPE } from "./result";
export { parseRetryAfter } from "./retry-after";
export type { AttemptOutcome, RetryPolicy } from "./retry-policy";
export {
  imdsRetryPolicy,
  managedIdentityRetryPolicy,
  noRetryPolicy,
  tokenEndpointRetryPolicy,
} from "./retry-policy";
export type { RetryEvent, SendWithRetryOptions } from "./send-with-retry";
export { endpointOf, sendWithRetry } from "./send-with-retry";
export {
  REDACTED,
  redactSecrets,
  requestSecrets,
  SERVER_TEXT_LIMITS,
  sanitiseServerText,
  serverText,
} from "./server-text";
export { SingleFlight } from "./single-flight";
export { MAX_THROTTLE_MS, ThrottleGuard } from "./throttle-guard";
export type {
  BindingCertificateResolver,
  RefreshBackoff,
  TokenManager,
  TokenManagerOptions,
  TokenManagerRequest,
} from "./token-manager";
export {
  createTokenManager,
  DEFAULT_REFRESH_BACKOFF,
  EXPIRY_BUFFER_MS,
  REFRESH_JITTER_MS,
} from "./token-manager";
export type { TokenRequestOptions } from "./token-request";
export { buildTokenRequest, encodeForm } from "./token-request";
export { traceCertificateMint } from "./trace-acquisition";
export { startResourceCall, traceResourceCall } from "./trace-resource-call";
export type { ClientTlsIdentity, HttpRequest, HttpResponse, HttpTransport, ProxyPolicy } from "./transport";
export { DEFAULT_MAX_RESPONSE_BYTES } from "./transport";
export { assertKnownKeys, closestKnownKey, unknownOptionError } from "./unknown-keys";
export { CLIENT_SKU, CLIENT_VERSION } from "./version";
