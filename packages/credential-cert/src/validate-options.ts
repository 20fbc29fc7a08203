import { type CacheStore, type Clock, type HttpTransport, type Logger, systemClock } from "@certbound/core";
import {
  assertKnownKeys,
  DEFAULT_ACQUISITION_TIMEOUT_MS,
  durationOption,
  invalidOptions,
} from "@certbound/core/credential-kit";
import { type ParsedAuthority, parseAuthority, parseHostOverride } from "./authority";
import type { CertificateInput, CertificateProvider } from "./certificate-input";
import type { AssertionAlgorithm } from "./client-assertion";
import type { ConfidentialClientOptions } from "./options";
import { PACKAGE } from "./package-name";
import { type RegionSetting, resolveRegionSetting } from "./region-setting";

/** The options after validation, with defaults applied. */
export interface ResolvedOptions {
  readonly clientId: string;
  readonly authority: ParsedAuthority;
  readonly certificate: CertificateInput | CertificateProvider;
  readonly transport: HttpTransport;
  readonly sendX5c: boolean;
  readonly assertionAlgorithm: AssertionAlgorithm;
  /** The region decided from `azureRegion` and the environment (MSAL_DISABLE_REGION, MSAL_FORCE_REGION). */
  readonly region: RegionSetting;
  readonly authorityHost: string | undefined;
  readonly mtlsAuthorityHost: string | undefined;
  readonly ca: string | readonly string[] | undefined;
  readonly imdsEndpoint: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cache: CacheStore | undefined;
  readonly logger: Logger | undefined;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly acquisitionTimeoutMs: number;
}

// Every key of ConfidentialClientOptions (`satisfies` fails to compile when one is missing here).
const CLIENT_OPTION_KEYS = Object.keys({
  clientId: true,
  authority: true,
  certificate: true,
  transport: true,
  sendX5c: true,
  assertionAlgorithm: true,
  azureRegion: true,
  authorityHost: true,
  mtlsAuthorityHost: true,
  ca: true,
  imdsEndpoint: true,
  env: true,
  cache: true,
  logger: true,
  clock: true,
  timeoutMs: true,
  acquisitionTimeoutMs: true,
} satisfies Record<keyof ConfidentialClientOptions, true>);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null;
const hasMethods = (value: unknown, ...names: string[]) =>
  isObject(value) && names.every((n) => typeof value[n] === "function");

/**
 * Checks every option eagerly, with messages that say how to fix them (`invalid_options`, or
 * `missing_tenanted_authority` for a multi-tenant authority). The certificate itself is parsed by
 * the caller.
 *
 * @example
 * ```ts
 * const resolved = validateOptions({ clientId, authority, certificate, transport });
 * ```
 */
export function validateOptions(options: ConfidentialClientOptions): ResolvedOptions {
  if (!isObject(options)) {
    throw invalidOptions(
      PACKAGE,
      "createConfidentialClient takes one options object: { clientId, authority, certificate, transport }.",
    );
  }
  const o = options as unknown as Record<string, unknown>;
  // A misspelt option would otherwise be ignored without a word (`mtlsAuthorityHots` -> Entra).
  assertKnownKeys(PACKAGE, o, CLIENT_OPTION_KEYS, "createConfidentialClient options");
  if (typeof o.clientId !== "string" || o.clientId.trim() === "") {
    throw invalidOptions(PACKAGE, "`clientId` must be the application (client) id of your app registration.");
  }
  if (typeof o.authority !== "string") {
    throw invalidOptions(
      PACKAGE,
      "`authority` must be a URL like https://login.microsoftonline.com/<tenant-id>.",
    );
  }
  const authority = parseAuthority(o.authority);
  if (!hasMethods(o.transport, "send")) {
    throw invalidOptions(
      PACKAGE,
      "`transport` is required: install @certbound/http-undici and pass `transport: createUndiciTransport()`, or @certbound/http-axios and pass `transport: createAxiosTransport()`.",
    );
  }
  if (o.certificate === undefined || o.certificate === null) {
    throw invalidOptions(
      PACKAGE,
      "`certificate` is required: { certificatePem, privateKeyPem, passphrase? }, { pfx, passphrase? }, { certificatePem, privateKey } or a function returning one.",
    );
  }
  if (typeof o.certificate !== "function" && !isObject(o.certificate)) {
    throw invalidOptions(PACKAGE, "`certificate` must be an object or a function returning one.");
  }
  if (o.sendX5c !== undefined && typeof o.sendX5c !== "boolean") {
    throw invalidOptions(PACKAGE, "`sendX5c` must be true or false.");
  }
  if (
    o.assertionAlgorithm !== undefined &&
    o.assertionAlgorithm !== "PS256" &&
    o.assertionAlgorithm !== "RS256"
  ) {
    throw invalidOptions(PACKAGE, '`assertionAlgorithm` must be "PS256" (default) or "RS256".');
  }
  // An empty name is a mistake, not a request for the global endpoints (MSAL.NET's WithAzureRegion
  // throws on it too: ClientCredentialWithRegionTests.WithAzureRegionThrowsOnNullArg).
  if (o.azureRegion !== undefined && (typeof o.azureRegion !== "string" || o.azureRegion === "")) {
    throw invalidOptions(
      PACKAGE,
      '`azureRegion` must be a region name such as "westus3", or "auto" to detect it; leave it out for the global endpoints.',
    );
  }
  const authorityHost =
    o.authorityHost === undefined ? undefined : parseHostOverride(o.authorityHost, "authorityHost");
  const mtlsAuthorityHost =
    o.mtlsAuthorityHost === undefined
      ? undefined
      : parseHostOverride(o.mtlsAuthorityHost, "mtlsAuthorityHost");
  const ca = o.ca;
  if (
    ca !== undefined &&
    typeof ca !== "string" &&
    !(Array.isArray(ca) && ca.every((c) => typeof c === "string"))
  ) {
    throw invalidOptions(PACKAGE, "`ca` must be PEM text or an array of PEM texts.");
  }
  if (o.env !== undefined && !isObject(o.env)) {
    throw invalidOptions(PACKAGE, "`env` must be a record of environment variables, like process.env.");
  }
  const env = (o.env ?? process.env) as Readonly<Record<string, string | undefined>>;
  const imdsEndpoint = o.imdsEndpoint ?? env.AZURE_POD_IDENTITY_AUTHORITY_HOST ?? "http://169.254.169.254";
  if (typeof imdsEndpoint !== "string" || !/^https?:\/\/[^/?#]+\/?$/i.test(imdsEndpoint)) {
    throw invalidOptions(PACKAGE, "`imdsEndpoint` must be a base URL like http://169.254.169.254.");
  }
  if (o.cache !== undefined && !hasMethods(o.cache, "get", "set")) {
    throw invalidOptions(PACKAGE, "`cache` must have `get` and `set` methods (a CacheStore).");
  }
  if (o.logger !== undefined && !hasMethods(o.logger, "log")) {
    throw invalidOptions(PACKAGE, "`logger` must have a `log(level, message, fields)` method.");
  }
  if (o.clock !== undefined && !hasMethods(o.clock, "now", "sleep", "random")) {
    throw invalidOptions(PACKAGE, "`clock` must have `now`, `sleep` and `random` methods (a Clock).");
  }
  const timeoutMs = durationOption(PACKAGE, "timeoutMs", o.timeoutMs, 30_000);
  const acquisitionTimeoutMs = durationOption(
    PACKAGE,
    "acquisitionTimeoutMs",
    o.acquisitionTimeoutMs,
    DEFAULT_ACQUISITION_TIMEOUT_MS,
  );
  return {
    clientId: o.clientId,
    authority,
    certificate: o.certificate as CertificateInput | CertificateProvider,
    transport: o.transport as unknown as HttpTransport,
    sendX5c: o.sendX5c === true,
    assertionAlgorithm: (o.assertionAlgorithm as AssertionAlgorithm | undefined) ?? "PS256",
    region: resolveRegionSetting(o.azureRegion as string | undefined, env),
    authorityHost,
    mtlsAuthorityHost,
    ca: ca as string | readonly string[] | undefined,
    imdsEndpoint: imdsEndpoint.replace(/\/+$/, ""),
    env,
    cache: o.cache as CacheStore | undefined,
    logger: o.logger as Logger | undefined,
    clock: (o.clock as Clock | undefined) ?? systemClock,
    timeoutMs,
    acquisitionTimeoutMs,
  };
}
