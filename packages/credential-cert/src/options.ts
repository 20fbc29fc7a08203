import type { CacheStore, Clock, HttpTransport, Logger } from "@certbound/core";
import type { CertificateInput, CertificateProvider } from "./certificate-input";
import type { AssertionAlgorithm } from "./client-assertion";

/**
 * Options of {@link createConfidentialClient}.
 *
 * @public
 */
export interface ConfidentialClientOptions {
  /** The application (client) id of the app registration. */
  clientId: string;
  /**
   * The tenant-specific authority, e.g. `https://login.microsoftonline.com/<tenant-id>`.
   * `/common`, `/organizations` and `/consumers` fail with `missing_tenanted_authority`.
   */
  authority: string;
  /**
   * The app's certificate with its private key: PEM, PFX, PEM + `KeyObject`, or a function
   * returning one of those (called again before acquisitions, so rotation needs no restart).
   */
  certificate: CertificateInput | CertificateProvider;
  /** The HTTP seam: `createUndiciTransport()` from `@certbound/http-undici` or `createAxiosTransport()` from `@certbound/http-axios`. */
  transport: HttpTransport;
  /**
   * Put the certificate chain in the client assertion's `x5c` header (Bearer), needed for subject
   * name / issuer (SNI) authentication. @default false
   */
  sendX5c?: boolean | undefined;
  /** Signature of the Bearer client assertion. @default "PS256" */
  assertionAlgorithm?: AssertionAlgorithm | undefined;
  /**
   * An Azure region (`"westus3"`) for the regional endpoints; `"auto"` (or MSAL's `"TryAutoDetect"`)
   * to detect it (env `REGION_NAME` with spaces removed, then IMDS); `"DisableMsalForceRegion"` for
   * the global endpoints whatever env `MSAL_FORCE_REGION` says. A name that is not letters and
   * digits is ignored (global endpoints). Left out, env `MSAL_FORCE_REGION` applies when set; env
   * `MSAL_DISABLE_REGION` turns regional endpoints off in every case. These are MSAL.NET's rules,
   * applied once when the client is created.
   * @default undefined (env `MSAL_FORCE_REGION`, else the global endpoints)
   */
  azureRegion?: string | undefined;
  /** Replaces the regular (Bearer) token host, for a private cloud or an emulator: `https://host[:port]`. */
  authorityHost?: string | undefined;
  /** Replaces the mTLS PoP token host: the endpoint becomes `${mtlsAuthorityHost}/${tenant}/oauth2/v2.0/token`. */
  mtlsAuthorityHost?: string | undefined;
  /** Extra trusted CA certificates (PEM) for every request, e.g. the emulator's `caCertificatePem`. */
  ca?: string | readonly string[] | undefined;
  /**
   * IMDS base URL for region auto-detection.
   * @default env AZURE_POD_IDENTITY_AUTHORITY_HOST, else "http://169.254.169.254"
   */
  imdsEndpoint?: string | undefined;
  /** The environment read for the region settings and IMDS' address. @default process.env */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /**
   * A store shared with other clients (strings, no key material; see `CacheStore`).
   * @default none: tokens are cached in process (10,000 entries, LRU)
   */
  cache?: CacheStore | undefined;
  /** Receives diagnostics; never tokens, keys, assertions or passphrases. @default silent */
  logger?: Logger | undefined;
  /** Time, sleeping and randomness, injectable for tests. @default systemClock */
  clock?: Clock | undefined;
  /**
   * Budget of one token request attempt in milliseconds; a hung endpoint then times out and is
   * retried once (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s6-1-schedules). At most 2147483647 (2^31-1). @default 30000
   */
  timeoutMs?: number | undefined;
  /**
   * Budget of one whole token acquisition in milliseconds: every attempt and retry wait, region
   * detection excepted. When it runs out the call fails with `timeout`, naming what was tried; a
   * `Retry-After` longer than what is left fails at once with `throttled`. At most 2147483647.
   * @default 90000
   */
  acquisitionTimeoutMs?: number | undefined;
}

/**
 * One {@link ConfidentialClient.acquireTokenForClient} call.
 *
 * @public
 */
export interface AcquireTokenForClientRequest {
  /** App-token scopes, e.g. `["https://vault.azure.net/.default"]`. */
  scopes: readonly string[];
  /** Get an mTLS PoP token bound to the certificate instead of a Bearer token. @default false */
  mtlsProofOfPossession?: boolean | undefined;
  /** Skip the cache and ask Entra ID for a new token. @default false */
  forceRefresh?: boolean | undefined;
  /** A claims challenge (JSON) from a resource: skips the cache read; its token replaces the cached one. */
  claims?: string | undefined;
  /** The `client-request-id` to send. @default a new UUID */
  correlationId?: string | undefined;
  /** Ends this caller's wait (an acquisition shared with other callers goes on). */
  signal?: AbortSignal | undefined;
}
