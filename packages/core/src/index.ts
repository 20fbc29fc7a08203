export * as asn1 from "./certificate/asn1-der";
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
export {
  currentAcquisition,
  DIAGNOSTICS_CHANNELS,
  diagnostics,
  diagnosticsError,
  runInAcquisition,
} from "./diagnostics/diagnostics";
export { traceCertificateMint } from "./diagnostics/trace-acquisition";
export { startResourceCall, traceResourceCall } from "./diagnostics/trace-resource-call";
export { durationOption, durationTooLong } from "./options/duration-option";
export { assertKnownKeys, closestKnownKey, unknownOptionError } from "./options/unknown-keys";
export type { MtlsPopAcquireOptions } from "./pop/mtls-pop-token-acquirer";
export { MtlsPopTokenAcquirer, verifyMtlsPopResult } from "./pop/mtls-pop-token-acquirer";
export type { CredentialCallInit, ResourceCallerOptions, ResourceCallInit } from "./pop/resource-caller";
export { decodeClaimsChallenge, parseBearerChallenge, ResourceCaller } from "./pop/resource-caller";
export type { AuthorizationScheme } from "./protocol/authorization-header";
export { createAuthorizationHeader } from "./protocol/authorization-header";
export { assertCorrelationId, MAX_CORRELATION_ID_LENGTH } from "./protocol/correlation-id";
export type { CertboundErrorCode, CertboundErrorOptions, ServiceErrorDetails } from "./protocol/errors";
export { CertboundError, invalidOptions, isCertboundError, ServiceError } from "./protocol/errors";
export { decodeJwtPayload, tokenBindingThumbprint } from "./protocol/jwt";
export type { ParseErrorOptions } from "./protocol/parse-error-response";
export { parseErrorResponse } from "./protocol/parse-error-response";
export { parseJsonBody, stringField } from "./protocol/parse-json-body";
export type { ParsedTokenResponse, ParseTokenResponseOptions } from "./protocol/parse-token-response";
export { parseTokenResponse } from "./protocol/parse-token-response";
export {
  REDACTED,
  redactSecrets,
  requestSecrets,
  SERVER_TEXT_LIMITS,
  sanitizeServerText,
  serverText,
} from "./protocol/server-text";
export type { TokenRequestOptions } from "./protocol/token-request";
export { buildTokenRequest, encodeForm } from "./protocol/token-request";
export { CLIENT_SKU, CLIENT_VERSION } from "./protocol/version";
export type { AcquisitionBudgetOptions } from "./retry/acquisition-budget";
export { AcquisitionBudget, DEFAULT_ACQUISITION_TIMEOUT_MS } from "./retry/acquisition-budget";
export { parseRetryAfter } from "./retry/retry-after";
export type { AttemptOutcome, RetryPolicy } from "./retry/retry-policy";
export {
  imdsRetryPolicy,
  managedIdentityRetryPolicy,
  noRetryPolicy,
  tokenEndpointRetryPolicy,
} from "./retry/retry-policy";
export type { RetryEvent, SendWithRetryOptions } from "./retry/send-with-retry";
export { endpointOf, sendWithRetry } from "./retry/send-with-retry";
export { MAX_THROTTLE_MS, ThrottleGuard } from "./retry/throttle-guard";
export { abortedError, onAbort, raceAbort, throwIfAborted } from "./seams/abort";
export type { CacheStore } from "./seams/cache-store";
export type { Clock } from "./seams/clock";
export {
  isBackgroundSignal,
  keepAliveUntilSettled,
  MAX_TIMER_MS,
  markBackgroundSignal,
  systemClock,
} from "./seams/clock";
export type { Credential, GetTokenOptions } from "./seams/credential";
export { assertGetTokenOptions, isCredential } from "./seams/credential";
export type { Log, Logger, LogLevel } from "./seams/logger";
export { createLog, silentLogger } from "./seams/logger";
export type { BindingCertificate, TokenMetadata, TokenResult, TokenSource, TokenType } from "./seams/result";
export { MTLS_POP_TOKEN_TYPE } from "./seams/result";
export type { AcquiredToken, FetchRequest, TokenFetcher } from "./seams/token-fetcher";
export type {
  ClientTlsIdentity,
  HttpRequest,
  HttpResponse,
  HttpTransport,
  ProxyPolicy,
} from "./seams/transport";
export { DEFAULT_MAX_RESPONSE_BYTES } from "./seams/transport";
export type { CacheKeyParts } from "./token-cache/cache-key";
export { tokenCacheKey } from "./token-cache/cache-key";
export { EPOCH_THRESHOLD_SECONDS, halfLifeRefresh, parseExpiry } from "./token-cache/expiry";
export { LruMap } from "./token-cache/lru-map";
export type { MemoryCacheStore, MemoryCacheStoreOptions } from "./token-cache/memory-cache-store";
export { createMemoryCacheStore } from "./token-cache/memory-cache-store";
export { SingleFlight } from "./token-cache/single-flight";
export type {
  BindingCertificateResolver,
  RefreshBackoff,
  TokenManager,
  TokenManagerOptions,
  TokenManagerRequest,
} from "./token-cache/token-manager";
export {
  createTokenManager,
  DEFAULT_REFRESH_BACKOFF,
  EXPIRY_BUFFER_MS,
  REFRESH_JITTER_MS,
} from "./token-cache/token-manager";
