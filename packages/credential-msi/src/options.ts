import { existsSync } from "node:fs";
import type { CacheStore, Clock, HttpTransport, Logger } from "@certbound/core";
import {
  assertKnownKeys,
  DEFAULT_ACQUISITION_TIMEOUT_MS,
  durationOption,
  invalidOptions,
} from "@certbound/core/credential-kit";
import type { AttestationProvider } from "./attestation";
import { defaultArcTokenFolder } from "./detect-source";
import { type ManagedIdentityId, SYSTEM_ASSIGNED } from "./identity";
import type { KeyProvider } from "./key-provider";
import { PACKAGE } from "./package-name";

/**
 * The IMDS address on every Azure VM.
 *
 * @public
 * @example
 * ```ts
 * createManagedIdentityClient({ transport, imdsEndpoint: DEFAULT_IMDS_ENDPOINT });
 * ```
 */
export const DEFAULT_IMDS_ENDPOINT = "http://169.254.169.254";
/** Budget of one attempt at Entra's mTLS token endpoint when `timeoutMs` is not given. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/**
 * Budget of one attempt at IMDS or another managed-identity endpoint on this machine when
 * `timeoutMs` is not given: 10 s. These endpoints answer in milliseconds when they work; MSAL.NET
 * gives IMDS 2 s for its region lookup
 * (https://github.com/AzureAD/microsoft-authentication-library-for-dotnet/blob/main/src/client/Microsoft.Identity.Client/Instance/Region/RegionManager.cs)
 * but no limit of its own to managed-identity token calls (HttpClient's 100 s). Minting a token or
 * a certificate can take IMDS a few seconds, and an endpoint that does not answer at all is retried
 * on the protocol's schedule, so a hung one is known within about 47 s instead of 127 s.
 */
export const DEFAULT_LOCAL_TIMEOUT_MS = 10_000;

/**
 * Options of {@link createManagedIdentityClient}. Give at most one of `clientId`, `objectId`,
 * `resourceId` to use a user-assigned identity; none means the system-assigned identity.
 *
 * @public
 * @example
 * ```ts
 * const options: ManagedIdentityClientOptions = {
 *   transport: createUndiciTransport(),
 *   resourceId: "/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>",
 * };
 * ```
 */
export interface ManagedIdentityClientOptions {
  /**
   * The HTTP seam. Install `@certbound/http-undici` (`createUndiciTransport()`) or
   * `@certbound/http-axios` (`createAxiosTransport()`), or bring your own `HttpTransport`.
   */
  transport: HttpTransport;
  /** Client (application) id of a user-assigned identity. */
  clientId?: string | undefined;
  /** Object (principal) id of a user-assigned identity. */
  objectId?: string | undefined;
  /** Azure resource id of a user-assigned identity (`/subscriptions/.../userAssignedIdentities/<name>`). */
  resourceId?: string | undefined;
  /**
   * Base URL of IMDS.
   * @default env `AZURE_POD_IDENTITY_AUTHORITY_HOST`, else "http://169.254.169.254"
   */
  imdsEndpoint?: string | undefined;
  /**
   * Creates or loads the RSA key IMDS v2 certifies.
   * @default createInMemoryKeyProvider() (RSA-2048 per identity, in memory only)
   */
  keyProvider?: KeyProvider | undefined;
  /**
   * Obtains an attestation token for the key before each certificate request; it goes into
   * issuecredential as `attestation_token`. Needed where IMDS certifies only attested keys (see the
   * README's "PoP on real VMs").
   * @default none: certificate requests carry no attestation
   */
  attestationProvider?: AttestationProvider | undefined;
  /**
   * Where mTLS PoP token requests go instead of the `mtls_authentication_endpoint` IMDS names: the
   * endpoint becomes `${mtlsAuthorityHost}/${tenant}/oauth2/v2.0/token`. Only for a private cloud or
   * a local emulator (e.g. `emulator.mtlsAuthorityHost`). Without it, IMDS's answer must name an
   * Entra ID mTLS host (`[region.]mtlsauth.microsoft.com`, `mtlsauth.microsoftonline.us`,
   * `mtlsauth.partner.microsoftonline.cn`) or the request is refused.
   * @default the endpoint IMDS names
   */
  mtlsAuthorityHost?: string | undefined;
  /** Extra trusted CAs (PEM) for HTTPS endpoints, e.g. an emulator's CA for the mTLS token endpoint. */
  ca?: string | readonly string[] | undefined;
  /**
   * A store shared with other clients (strings, no key material; see `CacheStore`).
   * @default none: tokens are cached in process (10,000 entries, LRU)
   */
  cache?: CacheStore | undefined;
  /** @default silent */
  logger?: Logger | undefined;
  /** Time, sleeping and randomness (retries, expiry). @default systemClock */
  clock?: Clock | undefined;
  /** The environment used to detect the source. @default process.env */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /**
   * Folder of the Azure Arc agent's challenge key files.
   * @default "/var/opt/azcmagent/tokens" (Linux), "%ProgramData%\\AzureConnectedMachineAgent\\Tokens" (Windows)
   */
  arcTokenFolder?: string | undefined;
  /** Checks for the Azure Arc agent's `himds` executable. @default fs.existsSync */
  fileExists?: ((path: string) => boolean) | undefined;
  /**
   * Budget of one HTTP attempt, in milliseconds. At most 2147483647 (2^31-1).
   * @default 10000 for IMDS and the managed-identity endpoints on this machine, 30000 for Entra's mTLS token endpoint
   */
  timeoutMs?: number | undefined;
  /**
   * Budget of one whole token acquisition in milliseconds: every request, retry wait and, for PoP,
   * getplatformmetadata, issuecredential and the token request together. When it runs out the
   * call fails with `timeout`, naming what was tried; a `Retry-After` longer than what is left
   * fails at once with `throttled`. At most 2147483647.
   * @default 90000
   */
  acquisitionTimeoutMs?: number | undefined;
}

/** The options after validation, with defaults applied. */
export interface ResolvedOptions {
  readonly transport: HttpTransport;
  readonly identity: ManagedIdentityId;
  readonly imdsEndpoint: string;
  readonly keyProvider: KeyProvider | undefined;
  readonly attestationProvider: AttestationProvider | undefined;
  readonly mtlsAuthorityHost: string | undefined;
  readonly ca: string | readonly string[] | undefined;
  readonly cache: CacheStore | undefined;
  readonly logger: Logger | undefined;
  readonly clock: Clock | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly arcTokenFolder: string;
  readonly fileExists: (path: string) => boolean;
  /** Per attempt at Entra's mTLS token endpoint. */
  readonly timeoutMs: number;
  /** Per attempt at IMDS or another managed-identity endpoint on this machine. */
  readonly localTimeoutMs: number;
  readonly acquisitionTimeoutMs: number;
}

// Every key of ManagedIdentityClientOptions (`satisfies` fails to compile when one is missing).
const KNOWN = Object.keys({
  transport: true,
  clientId: true,
  objectId: true,
  resourceId: true,
  imdsEndpoint: true,
  keyProvider: true,
  attestationProvider: true,
  mtlsAuthorityHost: true,
  ca: true,
  cache: true,
  logger: true,
  clock: true,
  env: true,
  arcTokenFolder: true,
  fileExists: true,
  timeoutMs: true,
  acquisitionTimeoutMs: true,
} satisfies Record<keyof ManagedIdentityClientOptions, true>);

const fail = (message: string) => invalidOptions(PACKAGE, message);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
const hasMethods = (v: unknown, ...names: string[]): boolean =>
  isObject(v) && names.every((n) => typeof v[n] === "function");

/**
 * Validates the options eagerly, so a mistake shows up when the client is built rather than on
 * the first token request, and fills in the defaults.
 */
export function resolveOptions(options: ManagedIdentityClientOptions): ResolvedOptions {
  if (!isObject(options)) {
    throw fail(
      "pass an options object, e.g. `createManagedIdentityClient({ transport: createUndiciTransport() })`.",
    );
  }
  // A misspelt id (`client_id`, `clientID`) would otherwise silently select the system identity.
  assertKnownKeys(PACKAGE, options, KNOWN, "createManagedIdentityClient options");
  if (!hasMethods(options.transport, "send")) {
    throw fail(
      "`transport` is required: install @certbound/http-undici and pass `createUndiciTransport()`, or install @certbound/http-axios and pass `createAxiosTransport()`.",
    );
  }
  const env = options.env ?? process.env;
  if (!isObject(env)) throw fail("`env` must be an object of environment variables.");

  const ids = (["clientId", "objectId", "resourceId"] as const).filter((k) => options[k] !== undefined);
  if (ids.length > 1) {
    throw fail(
      `give at most one of \`clientId\`, \`objectId\`, \`resourceId\` (got ${ids.join(" and ")}): they name one user-assigned identity.`,
    );
  }
  let identity: ManagedIdentityId = SYSTEM_ASSIGNED;
  const kind = ids[0];
  if (kind !== undefined) {
    const value = options[kind];
    if (typeof value !== "string" || value.trim() === "" || /\s/.test(value.trim())) {
      throw fail(`\`${kind}\` must be a non-empty identifier without spaces.`);
    }
    identity = { kind, value: value.trim() };
  }

  const imdsEndpoint = resolveImdsEndpoint(options.imdsEndpoint, env);

  if (options.keyProvider !== undefined && !hasMethods(options.keyProvider, "getKey")) {
    throw fail(
      "`keyProvider` must have a `getKey(identityKey)` method returning `{ privateKey, publicKey }`.",
    );
  }
  if (
    options.keyProvider !== undefined &&
    options.keyProvider.exportable !== undefined &&
    typeof options.keyProvider.exportable !== "boolean"
  ) {
    throw fail("`keyProvider.exportable` must be a boolean.");
  }
  if (options.attestationProvider !== undefined && typeof options.attestationProvider !== "function") {
    throw fail(
      "`attestationProvider` must be a function `({ attestationEndpoint, keyPair, signal }) => Promise<token>`.",
    );
  }
  const mtlsAuthorityHost =
    options.mtlsAuthorityHost === undefined ? undefined : parseMtlsAuthorityHost(options.mtlsAuthorityHost);
  const ca = options.ca;
  if (
    ca !== undefined &&
    typeof ca !== "string" &&
    !(Array.isArray(ca) && ca.every((c: unknown) => typeof c === "string"))
  ) {
    throw fail("`ca` must be PEM text or an array of PEM texts.");
  }
  if (options.cache !== undefined && !hasMethods(options.cache, "get", "set")) {
    throw fail("`cache` must have `get(key)` and `set(key, entry)` methods.");
  }
  if (options.logger !== undefined && !hasMethods(options.logger, "log")) {
    throw fail("`logger` must have a `log(level, message, fields)` method.");
  }
  if (options.clock !== undefined && !hasMethods(options.clock, "now", "sleep", "random")) {
    throw fail("`clock` must have `now()`, `sleep(ms, signal)` and `random()` methods.");
  }
  if (
    options.arcTokenFolder !== undefined &&
    (typeof options.arcTokenFolder !== "string" || options.arcTokenFolder === "")
  ) {
    throw fail("`arcTokenFolder` must be a folder path.");
  }
  if (options.fileExists !== undefined && typeof options.fileExists !== "function") {
    throw fail("`fileExists` must be a function `(path) => boolean`.");
  }
  const timeoutMs = durationOption(PACKAGE, "timeoutMs", options.timeoutMs, DEFAULT_TIMEOUT_MS);
  const acquisitionTimeoutMs = durationOption(
    PACKAGE,
    "acquisitionTimeoutMs",
    options.acquisitionTimeoutMs,
    DEFAULT_ACQUISITION_TIMEOUT_MS,
  );
  return {
    transport: options.transport,
    identity,
    imdsEndpoint,
    keyProvider: options.keyProvider,
    attestationProvider: options.attestationProvider,
    mtlsAuthorityHost,
    ca,
    cache: options.cache,
    logger: options.logger,
    clock: options.clock,
    env,
    arcTokenFolder: options.arcTokenFolder ?? defaultArcTokenFolder(process.platform, env),
    fileExists: options.fileExists ?? existsSync,
    timeoutMs,
    // An explicit `timeoutMs` applies to every endpoint, as it always did.
    localTimeoutMs: options.timeoutMs === undefined ? DEFAULT_LOCAL_TIMEOUT_MS : timeoutMs,
    acquisitionTimeoutMs,
  };
}

function resolveImdsEndpoint(
  explicit: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const fromEnv = env.AZURE_POD_IDENTITY_AUTHORITY_HOST?.trim();
  const [value, origin] =
    explicit !== undefined
      ? [explicit, "`imdsEndpoint`"]
      : fromEnv
        ? [fromEnv, "the environment variable AZURE_POD_IDENTITY_AUTHORITY_HOST"]
        : [DEFAULT_IMDS_ENDPOINT, "the default IMDS endpoint"];
  let url: URL | undefined;
  try {
    url = typeof value === "string" ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.search || url.hash) {
    throw fail(`${origin} must be an http(s) base URL such as "http://169.254.169.254".`);
  }
  // IMDS takes no credentials in the URL; user:pass@ there is a typo or an attempt to make the
  // transport send them (and they would show in every message naming the endpoint).
  if (url.username || url.password) {
    throw fail(
      `${origin} must not contain a user name or password (user:pass@); use the bare address such as "http://169.254.169.254".`,
    );
  }
  return value.replace(/\/+$/, "");
}

function parseMtlsAuthorityHost(value: unknown): string {
  let url: URL | undefined;
  try {
    url = typeof value === "string" ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url?.protocol !== "https:" || url.username || url.password || url.search || url.hash) {
    throw fail(
      "`mtlsAuthorityHost` must be a plain https URL (no credentials, query or fragment), e.g. https://127.0.0.1:8443.",
    );
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}
