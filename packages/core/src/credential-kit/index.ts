/**
 * `@certbound/core/credential-kit`: what a credential author needs, for people writing a
 * credential or an adapter of their own (and used by `@certbound/credential-cert`,
 * `@certbound/credential-msi` and the adapters). An application needs only `@certbound/core`.
 *
 * - token cache: {@link createTokenManager} (cache, single-flight, proactive refresh) around a
 *   {@link TokenFetcher}, {@link tokenCacheKey}, {@link SingleFlight}, {@link LruMap}, expiry rules;
 * - retry: {@link sendWithRetry} with the retry policies, {@link parseRetryAfter},
 *   {@link ThrottleGuard}, {@link AcquisitionBudget};
 * - protocol: {@link buildTokenRequest}, {@link parseTokenResponse}, {@link parseErrorResponse},
 *   JWT and correlation-id helpers, resource challenges ({@link parseBearerChallenge});
 * - certificates: PEM/DER parsing, {@link x5tS256}, {@link loadPrivateKey},
 *   {@link createBindingCertificate}, a certificate authority for tests and emulators;
 * - safety: server-text sanitizing and secret redaction, unknown-option checks, duration options,
 *   abort helpers;
 * - diagnostics: publishing to the `certbound:*` channels ({@link runInAcquisition},
 *   {@link traceCertificateMint}, {@link traceResourceCall}).
 *
 * @example
 * ```ts
 * import { type AcquiredToken, createTokenManager } from "@certbound/core/credential-kit";
 *
 * const manager = createTokenManager({
 *   fetcher: async ({ scopes }): Promise<AcquiredToken> => myIssuer.issue(scopes),
 * });
 * ```
 *
 * @packageDocumentation
 */
/**
 * DER encoders (SEQUENCE, INTEGER, OID, strings, times) for the CSRs and certificates certbound's
 * own packages build; not a general ASN.1 library.
 *
 * @internal
 * @example
 * ```ts
 * const der = asn1.sequence([asn1.integer(1), asn1.utf8String("x")]);
 * ```
 */
export * as asn1 from "../certificate/asn1-der";
export type {
  CertificateAuthority,
  CertificateKeyType,
  CertificateRequest,
  IssuedCertificate,
} from "../certificate/authority";
export { createCertificateAuthority, generateKeyPair } from "../certificate/authority";
export type { BindingCertificateInput } from "../certificate/binding-certificate";
export { createBindingCertificate } from "../certificate/binding-certificate";
export { keyIdentifier } from "../certificate/key-identifier";
export {
  certificateNotAfter,
  certificateNotBefore,
  parseDerCertificate,
  parsePemChain,
  toPem,
} from "../certificate/pem";
export { loadPrivateKey } from "../certificate/private-key";
export { x5tS256 } from "../certificate/x5t";
export {
  currentAcquisition,
  diagnostics,
  diagnosticsError,
  runInAcquisition,
} from "../diagnostics/diagnostics";
export { traceCertificateMint } from "../diagnostics/trace-acquisition";
export { startResourceCall, traceResourceCall } from "../diagnostics/trace-resource-call";
export { durationOption, durationTooLong } from "../options/duration-option";
export { assertKnownKeys, closestKnownKey, unknownOptionError } from "../options/unknown-keys";
export { decodeClaimsChallenge, parseBearerChallenge } from "../pop/resource-caller";
export { assertCorrelationId, MAX_CORRELATION_ID_LENGTH } from "../protocol/correlation-id";
export { invalidOptions } from "../protocol/errors";
export { decodeJwtPayload, tokenBindingThumbprint } from "../protocol/jwt";
export type { ParseErrorOptions } from "../protocol/parse-error-response";
export { parseErrorResponse } from "../protocol/parse-error-response";
export { parseJsonBody, stringField } from "../protocol/parse-json-body";
export type { ParsedTokenResponse, ParseTokenResponseOptions } from "../protocol/parse-token-response";
export { parseTokenResponse } from "../protocol/parse-token-response";
export {
  REDACTED,
  redactSecrets,
  requestSecrets,
  SERVER_TEXT_LIMITS,
  sanitizeServerText,
  serverText,
} from "../protocol/server-text";
export type { TokenRequestOptions } from "../protocol/token-request";
export { buildTokenRequest, encodeForm } from "../protocol/token-request";
export { CLIENT_SKU, CLIENT_VERSION } from "../protocol/version";
export type { AcquisitionBudgetOptions } from "../retry/acquisition-budget";
export { AcquisitionBudget, DEFAULT_ACQUISITION_TIMEOUT_MS } from "../retry/acquisition-budget";
export { parseRetryAfter } from "../retry/retry-after";
export type { AttemptOutcome, RetryPolicy } from "../retry/retry-policy";
export {
  imdsRetryPolicy,
  managedIdentityRetryPolicy,
  noRetryPolicy,
  tokenEndpointRetryPolicy,
} from "../retry/retry-policy";
export type { RetryEvent, SendWithRetryOptions } from "../retry/send-with-retry";
export { endpointOf, sendWithRetry } from "../retry/send-with-retry";
export { MAX_THROTTLE_MS, ThrottleGuard } from "../retry/throttle-guard";
export { abortedError, onAbort, raceAbort, throwIfAborted } from "../seams/abort";
export {
  isBackgroundSignal,
  keepAliveUntilSettled,
  MAX_TIMER_MS,
  markBackgroundSignal,
} from "../seams/clock";
export { assertGetTokenOptions } from "../seams/credential";
export type { Log } from "../seams/logger";
export { createLog } from "../seams/logger";
export type {
  AcquiredToken,
  CredentialSource,
  FetchRequest,
  SourceRequest,
  TokenFetcher,
} from "../seams/token-fetcher";
export type { CacheKeyParts } from "../token-cache/cache-key";
export { tokenCacheKey } from "../token-cache/cache-key";
export { sweepClock } from "../token-cache/clock-sweep";
export { EPOCH_THRESHOLD_SECONDS, halfLifeRefresh, parseExpiry } from "../token-cache/expiry";
export { LruMap } from "../token-cache/lru-map";
export type { CacheStoreSlots, MemoryStoreSlot } from "../token-cache/memory-cache-store";
export { provideCacheStoreSlots } from "../token-cache/memory-cache-store";
export { SingleFlight } from "../token-cache/single-flight";
export type {
  BindingCertificateResolver,
  RefreshBackoff,
  TokenManager,
  TokenManagerCall,
  TokenManagerOptions,
  TokenManagerRequest,
} from "../token-cache/token-manager";
export {
  createTokenManager,
  DEFAULT_REFRESH_BACKOFF,
  EXPIRY_BUFFER_MS,
  REFRESH_JITTER_MS,
} from "../token-cache/token-manager";
