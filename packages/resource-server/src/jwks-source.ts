import type { FetchImplementation, JWTVerifyGetKey, RemoteJWKSetOptions } from "jose";
import { TokenValidationError } from "./errors";
import { httpsGet } from "./https-get";
import { loadJose } from "./jose-module";
import type { ValidatorSettings } from "./options";

/**
 * The issuer's signing keys: found once through the OpenID discovery document (unless `jwksUri`
 * is given), then fetched and cached by jose's remote JWKS (refetched after `cacheMaxAgeMs`, and
 * for an unknown `kid` at most once per `cooldownMs`, concurrent refetches shared). A failed
 * discovery is retried no sooner than `cooldownMs` later, so an outage is not multiplied by traffic.
 */
export class JwksSource {
  readonly #settings: ValidatorSettings;
  #keys: JWTVerifyGetKey | undefined;
  readonly #jwksUri: string | undefined;
  #discovering: Promise<JWTVerifyGetKey> | undefined;
  #failedAt: number | undefined;
  #failure: unknown;

  constructor(settings: ValidatorSettings) {
    this.#settings = settings;
    this.#jwksUri = settings.jwksUri;
  }

  /** The key resolver, discovering the JWKS address first if needed. */
  keys(): JWTVerifyGetKey | Promise<JWTVerifyGetKey> {
    if (this.#keys) return this.#keys;
    const now = this.#settings.now();
    if (this.#failedAt !== undefined && now - this.#failedAt < this.#settings.cooldownMs) {
      throw unavailable(this.#failure);
    }
    this.#discovering ??= (this.#jwksUri ? this.#remote(this.#jwksUri) : this.#discover()).then(
      (keys) => {
        this.#keys = keys;
        this.#discovering = undefined;
        return keys;
      },
      (error: unknown) => {
        this.#failedAt = this.#settings.now();
        this.#failure = error;
        this.#discovering = undefined;
        throw unavailable(error);
      },
    );
    return this.#discovering;
  }

  async #discover(): Promise<JWTVerifyGetKey> {
    const { authorityHost, firstTenant, ca, timeoutMs } = this.#settings;
    const url = `${authorityHost}/${firstTenant}/v2.0/.well-known/openid-configuration`;
    const response = await httpsGet(url, { ca, signal: AbortSignal.timeout(timeoutMs) });
    if (response.status !== 200) throw new Error(`discovery answered HTTP ${response.status}`);
    const document = (await response.json()) as { jwks_uri?: unknown };
    const jwksUri = document?.jwks_uri;
    if (typeof jwksUri !== "string" || !jwksUri.startsWith("https://")) {
      throw new Error("the discovery document has no https:// jwks_uri");
    }
    return this.#remote(jwksUri);
  }

  async #remote(jwksUri: string): Promise<JWTVerifyGetKey> {
    const { ca, cacheMaxAgeMs, cooldownMs, timeoutMs } = this.#settings;
    const { createRemoteJWKSet, customFetch } = await loadJose();
    const fetchKeys: FetchImplementation = (url, init) =>
      httpsGet(url, { ca, signal: init.signal, headers: init.headers });
    const options: RemoteJWKSetOptions = {
      cacheMaxAge: cacheMaxAgeMs,
      cooldownDuration: cooldownMs,
      timeoutDuration: timeoutMs,
    };
    (options as Record<symbol, unknown>)[customFetch] = fetchKeys;
    return createRemoteJWKSet(new URL(jwksUri), options);
  }
}

function unavailable(cause: unknown): TokenValidationError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new TokenValidationError(
    "jwks_unavailable",
    `The issuer's signing keys could not be fetched (${why.slice(0, 200)}). Check that this server can reach the authority host.`,
    { cause },
  );
}
