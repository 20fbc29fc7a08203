import { durationOption, invalidOptions } from "@certbound/core/credential-kit";
import {
  checkForwardedOptions,
  type ForwardedCertificateOptions,
  type ForwardedCertificateSettings,
} from "./forwarded-certificate";
import type { JwtVerifyOptions } from "./jose-module";
import { PACKAGE } from "./package-name";

/**
 * Options of {@link createTokenValidator}: who may issue the tokens (`tenants`), for whom
 * (`audiences`), and whether a token without a certificate binding is acceptable (`acceptBearer`).
 *
 * @public
 * @example
 * ```ts
 * const options: TokenValidatorOptions = {
 *   tenants: ["72f988bf-86f1-41af-91ab-2d7cd011db47"],
 *   audiences: ["api://my-api", "6e8a0b2c-0000-4000-8000-000000000001"],
 * };
 * ```
 */
export interface TokenValidatorOptions {
  /** Tenant ids whose tokens are accepted; each gets its v1 and v2 issuer. */
  readonly tenants: readonly string[];
  /** Accepted `aud` values: your API's application id URI and/or client id. */
  readonly audiences: readonly string[];
  /**
   * Accept tokens without a `cnf` certificate binding (plain Bearer). Certificate-bound tokens are
   * still checked against the connection's certificate. @default false
   */
  readonly acceptBearer?: boolean | undefined;
  /**
   * Any one of these app roles (`roles` claim) or delegated scopes (`scp` claim) must be granted,
   * else 403 `insufficient_scope`. @default no check
   */
  readonly requiredRoles?: readonly string[] | undefined;
  /** The Entra host of the v2 issuer and of discovery. @default "https://login.microsoftonline.com" */
  readonly authorityHost?: string | undefined;
  /** The host of the v1 issuer (`{v1IssuerHost}/{tenant}/`). @default "https://sts.windows.net" */
  readonly v1IssuerHost?: string | undefined;
  /** The JWKS address. @default `jwks_uri` of `{authorityHost}/{tenants[0]}/v2.0/.well-known/openid-configuration` */
  readonly jwksUri?: string | undefined;
  /** Extra CAs (PEM) trusted for discovery and JWKS, on top of the system store. */
  readonly ca?: string | readonly string[] | undefined;
  /** Allowed clock skew for `exp` and `nbf`, in seconds (at most 300). @default 60 */
  readonly clockToleranceSeconds?: number | undefined;
  /** Longest accepted token, in characters; longer ones are refused before parsing. @default 16384 */
  readonly maxTokenLength?: number | undefined;
  /** The client certificate forwarded by a TLS-terminating proxy you trust. @default none (only the TLS connection's) */
  readonly forwardedCertificate?: ForwardedCertificateOptions | undefined;
  /**
   * JWKS caching: keys are refetched after `cacheMaxAgeMs`, and an unknown `kid` refetches at most
   * once per `cooldownMs` (so tokens with made-up kids cannot make this server hammer Entra).
   * @default { cacheMaxAgeMs: 600000, cooldownMs: 30000, timeoutMs: 5000 }
   */
  readonly jwks?:
    | { cacheMaxAgeMs?: number | undefined; cooldownMs?: number | undefined; timeoutMs?: number | undefined }
    | undefined;
  /** The clock for `exp`/`nbf`; tests pass a test clock. @default Date.now */
  readonly clock?: { now(): number } | undefined;
}

/** Checked and defaulted options. */
export interface ValidatorSettings {
  readonly tenants: ReadonlySet<string>;
  readonly firstTenant: string;
  readonly audiences: readonly string[];
  readonly issuers: ReadonlyMap<string, string>;
  /** jose's options, built once (not per token). */
  readonly verifyOptions: JwtVerifyOptions;
  readonly acceptBearer: boolean;
  readonly requiredRoles: readonly string[] | undefined;
  readonly authorityHost: string;
  readonly jwksUri: string | undefined;
  readonly ca: readonly string[] | undefined;
  readonly clockToleranceSeconds: number;
  readonly maxTokenLength: number;
  readonly forwarded: ForwardedCertificateSettings | undefined;
  readonly cacheMaxAgeMs: number;
  readonly cooldownMs: number;
  readonly timeoutMs: number;
  readonly now: () => number;
}

const KNOWN = new Set([
  "tenants",
  "audiences",
  "acceptBearer",
  "requiredRoles",
  "authorityHost",
  "v1IssuerHost",
  "jwksUri",
  "ca",
  "clockToleranceSeconds",
  "maxTokenLength",
  "forwardedCertificate",
  "jwks",
  "clock",
]);

const TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function fail(message: string): never {
  throw invalidOptions(PACKAGE, message);
}

function stringList(name: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === "string" && v !== "")) {
    fail(`\`${name}\` must be a non-empty array of strings.`);
  }
  return [...(value as string[])];
}

function httpsOrigin(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  let url: URL | undefined;
  try {
    url = new URL(String(value));
  } catch {
    url = undefined;
  }
  if (url?.protocol !== "https:" || url.username || url.password || url.search || url.hash) {
    fail(`\`${name}\` must be an https:// address without credentials, query or fragment.`);
  }
  return url.href.replace(/\/+$/, "");
}

export function checkOptions(options: TokenValidatorOptions): ValidatorSettings {
  if (typeof options !== "object" || options === null) {
    fail("createTokenValidator needs options: { tenants, audiences }.");
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) fail(`unknown option \`${key}\`. Known options: ${[...KNOWN].join(", ")}.`);
  }
  const tenants = stringList("tenants", options.tenants);
  for (const tenant of tenants) {
    // "common" or "organizations" would accept every tenant's tokens: name the tenants instead.
    if (!TENANT_ID.test(tenant)) {
      fail(`\`tenants\` holds "${tenant.slice(0, 60)}": give tenant ids (GUIDs), not names or "common".`);
    }
  }
  const audiences = stringList("audiences", options.audiences);
  const authorityHost = httpsOrigin(
    "authorityHost",
    options.authorityHost,
    "https://login.microsoftonline.com",
  );
  const v1Host = httpsOrigin("v1IssuerHost", options.v1IssuerHost, "https://sts.windows.net");
  const issuers = new Map<string, string>();
  for (const tenant of tenants) {
    const tid = tenant.toLowerCase();
    issuers.set(`${v1Host}/${tid}/`, tid);
    issuers.set(`${authorityHost}/${tid}/v2.0`, tid);
  }
  const jwksUri = options.jwksUri === undefined ? undefined : httpsOrigin("jwksUri", options.jwksUri, "");
  if (options.acceptBearer !== undefined && typeof options.acceptBearer !== "boolean") {
    fail("`acceptBearer` must be true or false.");
  }
  const requiredRoles =
    options.requiredRoles === undefined ? undefined : stringList("requiredRoles", options.requiredRoles);
  const ca =
    options.ca === undefined ? undefined : typeof options.ca === "string" ? [options.ca] : [...options.ca];
  if (ca && !ca.every((pem) => typeof pem === "string" && pem.includes("-----BEGIN CERTIFICATE-----"))) {
    fail("`ca` must be PEM certificate text (or an array of them).");
  }
  const tolerance = options.clockToleranceSeconds ?? 60;
  if (typeof tolerance !== "number" || !Number.isFinite(tolerance) || tolerance < 0 || tolerance > 300) {
    fail("`clockToleranceSeconds` must be a number from 0 to 300.");
  }
  const maxTokenLength = options.maxTokenLength ?? 16 * 1024;
  if (!Number.isInteger(maxTokenLength) || maxTokenLength < 256 || maxTokenLength > 1024 * 1024) {
    fail("`maxTokenLength` must be an integer from 256 to 1048576.");
  }
  if (options.clock !== undefined && typeof options.clock?.now !== "function") {
    fail("`clock` must have a now() method returning milliseconds.");
  }
  const clock = options.clock;
  return {
    tenants: new Set(tenants.map((t) => t.toLowerCase())),
    firstTenant: (tenants[0] as string).toLowerCase(),
    audiences,
    issuers,
    verifyOptions: {
      algorithms: ["RS256"],
      issuer: [...issuers.keys()],
      audience: audiences,
      clockTolerance: tolerance,
      requiredClaims: ["exp", "iss", "aud"],
    },
    acceptBearer: options.acceptBearer ?? false,
    requiredRoles,
    authorityHost,
    jwksUri,
    ca,
    clockToleranceSeconds: tolerance,
    maxTokenLength,
    forwarded: checkForwardedOptions(options.forwardedCertificate),
    cacheMaxAgeMs: durationOption(PACKAGE, "jwks.cacheMaxAgeMs", options.jwks?.cacheMaxAgeMs, 600_000),
    cooldownMs: durationOption(PACKAGE, "jwks.cooldownMs", options.jwks?.cooldownMs, 30_000, 0),
    timeoutMs: durationOption(PACKAGE, "jwks.timeoutMs", options.jwks?.timeoutMs, 5_000),
    now: clock ? () => clock.now() : Date.now,
  };
}
