import { setMaxListeners } from "node:events";
import { diagnostics } from "../diagnostics/diagnostics";
import { startResourceCall } from "../diagnostics/trace-resource-call";
import { durationOption } from "../options/duration-option";
import { assertKnownKeys, unknownOptionError } from "../options/unknown-keys";
import { type AuthorizationScheme, createAuthorizationHeader } from "../protocol/authorization-header";
import { CertboundError, invalidOptions, ServiceError } from "../protocol/errors";
import { tokenBindingThumbprint } from "../protocol/jwt";
import { redactSecrets, sanitizeServerText } from "../protocol/server-text";
import { onAbort, throwIfAborted } from "../seams/abort";
import { type Credential, isCredential } from "../seams/credential";
import { MTLS_POP_TOKEN_TYPE, type TokenResult } from "../seams/result";
import type { ClientTlsIdentity, HttpResponse, HttpTransport } from "../seams/transport";
import { verifyMtlsPopResult } from "./mtls-pop-token-acquirer";

/**
 * Options of {@link ResourceCaller}.
 *
 * @public
 * @example
 * ```ts
 * const options: ResourceCallerOptions = { transport: () => createUndiciTransport(), timeoutMs: 10_000 };
 * ```
 */
export interface ResourceCallerOptions {
  /**
   * The transport to send with. Pass an instance you own (it is left open on `close()`), or a
   * function that creates one (the caller then owns and closes it).
   */
  transport: HttpTransport | (() => HttpTransport);
  /** Extra trusted CAs (PEM) for the resource's server certificate. */
  ca?: string | readonly string[] | undefined;
  /** @default "Bearer" */
  scheme?: AuthorizationScheme | undefined;
  /** Per-call budget in milliseconds. @default 30000 */
  timeoutMs?: number | undefined;
}

/**
 * One resource call.
 *
 * @public
 * @example
 * ```ts
 * const init: ResourceCallInit = { method: "POST", headers: { "content-type": "application/json" }, body: "{}" };
 * ```
 */
export interface ResourceCallInit {
  /** @default "GET" */
  method?: "GET" | "POST" | undefined;
  headers?: Readonly<Record<string, string>> | undefined;
  body?: string | Uint8Array | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Presents another certificate than the token's binding certificate. Almost always a mistake
   * (the resource will refuse the token); the resulting error explains it.
   */
  clientIdentity?: ClientTlsIdentity | undefined;
}

// The keys of ResourceCallerOptions and ResourceCallInit (`satisfies`: none missing, none extra).
const OPTION_KEYS = Object.keys({
  transport: true,
  ca: true,
  scheme: true,
  timeoutMs: true,
} satisfies Record<keyof ResourceCallerOptions, true>);
const CALL_KEYS = Object.keys({
  method: true,
  headers: true,
  body: true,
  signal: true,
  clientIdentity: true,
} satisfies Record<keyof ResourceCallInit, true>);
const CREDENTIAL_CALL_KEYS = [
  ...CALL_KEYS,
  ...Object.keys({
    scopes: true,
    mtlsProofOfPossession: true,
    claims: true,
    correlationId: true,
  } satisfies Record<Exclude<keyof CredentialCallInit, keyof ResourceCallInit>, true>),
];

/**
 * One resource call made with a {@link Credential}: the caller acquires the token itself, and
 * re-acquires it once when the resource asks (see {@link ResourceCaller.call}).
 *
 * @public
 * @example
 * ```ts
 * const init: CredentialCallInit = { scopes: ["https://vault.azure.net/.default"], signal };
 * const response = await caller.call(credential, "https://myvault.vault.azure.net/secrets/s1?api-version=7.5", init);
 * ```
 */
export interface CredentialCallInit extends ResourceCallInit {
  /** The scopes of the token to acquire, e.g. `["https://vault.azure.net/.default"]`. */
  scopes: readonly string[];
  /**
   * Acquire an mTLS PoP token (checked like `MtlsPopTokenAcquirer` does) and present its binding
   * certificate. On by default: a resource reached through this caller is called over mutual TLS,
   * and only a PoP token comes with the certificate to present. `false` acquires a Bearer token.
   * @default true
   */
  mtlsProofOfPossession?: boolean | undefined;
  /** A claims challenge (JSON) to acquire the first token with. */
  claims?: string | undefined;
  /** The `client-request-id` of the acquisitions. @default a new UUID each */
  correlationId?: string | undefined;
}

// What a 401 asks of the next attempt: a token satisfying these claims, or just a new token.
interface Reacquire {
  readonly claims: string | undefined;
}

/**
 * Calls a protected resource with a token: over mutual TLS with `result.bindingCertificate` and the
 * token in the `Authorization` header. A PoP token without its certificate is refused before any
 * I/O; a 401 `invalid_token` answer becomes an error that names the likely cause.
 *
 * Given a {@link Credential} instead of a result, it acquires the token (PoP by default), and when
 * the resource answers 401 with a claims challenge (`WWW-Authenticate: Bearer ..., claims="<base64>"`,
 * as in Continuous Access Evaluation) or `error="invalid_token"`, it acquires a new token once
 * (cache bypassed, the challenge's claims passed on) and retries once.
 *
 * @public
 * @example
 * ```ts
 * await using caller = new ResourceCaller({ transport: createUndiciTransport() });
 * const response = await caller.call(result, "https://vault.example/secrets/s1");
 * const again = await caller.call(credential, "https://vault.example/secrets/s1", { scopes: ["https://vault.azure.net/.default"] });
 * console.log(response.status, again.body);
 * ```
 */
export class ResourceCaller {
  readonly #transport: HttpTransport;
  readonly #owned: boolean;
  readonly #options: ResourceCallerOptions;
  readonly #timeoutMs: number;
  // The Authorization header of the last token sent, and that token.
  #authorizedToken: string | undefined;
  #authorization: string | undefined;
  #authorizedScheme: AuthorizationScheme | undefined;
  // Fires on close(): ends calls in flight with an error that says the caller was closed.
  readonly #lifetime = new AbortController();

  constructor(options: ResourceCallerOptions) {
    if (
      !options ||
      (typeof options.transport !== "function" && typeof options.transport?.send !== "function")
    ) {
      throw invalidOptions(
        "@certbound/core",
        "ResourceCaller needs `transport`: install @certbound/http-undici or @certbound/http-axios and pass its transport.",
      );
    }
    this.#timeoutMs = durationOption("@certbound/core", "timeoutMs", options.timeoutMs, 30_000);
    assertKnownKeys("@certbound/core", options, OPTION_KEYS, "ResourceCaller options");
    this.#owned = typeof options.transport === "function";
    this.#transport = typeof options.transport === "function" ? options.transport() : options.transport;
    this.#options = options;
    // Every call in flight listens on this one signal; dozens at once are normal, not a leak.
    setMaxListeners(0, this.#lifetime.signal);
  }

  /**
   * Sends the request with `result`'s token; resolves with the response for every status but a 401
   * `invalid_token`.
   */
  call(result: TokenResult, url: string, init?: ResourceCallInit): Promise<HttpResponse>;
  /**
   * Acquires a token from `credential` (PoP unless `mtlsProofOfPossession: false`) and sends the
   * request with it. A 401 with a claims challenge or `invalid_token` gets one new token (cache
   * bypassed, claims passed on) and one retry; a second such 401 is an error
   * (`resource_unauthorized`, or `binding_certificate_mismatch`).
   */
  call(credential: Credential, url: string, init: CredentialCallInit): Promise<HttpResponse>;
  async call(
    tokenOrCredential: TokenResult | Credential,
    url: string,
    init: ResourceCallInit | CredentialCallInit = {},
  ): Promise<HttpResponse> {
    throwIfAborted(this.#lifetime.signal);
    const withCredential = isCredential(tokenOrCredential);
    // A misspelt key (`header`, `clientIdentitiy`) would otherwise be ignored without a word.
    for (const key in init) {
      switch (key) {
        case "method":
        case "headers":
        case "body":
        case "signal":
        case "clientIdentity":
          continue;
        case "scopes":
        case "mtlsProofOfPossession":
        case "claims":
        case "correlationId":
          if (withCredential) continue;
          throw unknownOptionError("@certbound/core", key, CALL_KEYS, "the ResourceCaller.call init");
        default:
          throw unknownOptionError(
            "@certbound/core",
            key,
            withCredential ? CREDENTIAL_CALL_KEYS : CALL_KEYS,
            "the ResourceCaller.call init",
          );
      }
    }
    throwIfAborted(init.signal);
    assertHttpsUrl(url);
    if (isCredential(tokenOrCredential)) {
      return this.#callWithCredential(tokenOrCredential, url, init as CredentialCallInit);
    }
    const { response, presented } = await this.#send(tokenOrCredential, url, init);
    if (response.status === 401) {
      const challenge = parseBearerChallenge(response.headers["www-authenticate"]);
      if (challenge.error === "invalid_token")
        throw explainRejection(tokenOrCredential, presented, challenge);
    }
    return response;
  }

  async #callWithCredential(
    credential: Credential,
    url: string,
    init: CredentialCallInit,
  ): Promise<HttpResponse> {
    const { scopes, pop } = checkCredentialCall(init);
    const acquire = async (claims: string | undefined, forceRefresh: boolean): Promise<TokenResult> => {
      const result = await credential.getToken(scopes, {
        mtlsProofOfPossession: pop,
        claims,
        forceRefresh: forceRefresh || undefined,
        correlationId: init.correlationId,
        signal: init.signal,
      });
      if (pop) return verifyMtlsPopResult(result);
      // A credential of one's own may answer anything: never send "Bearer undefined".
      if (typeof result?.accessToken !== "string" || result.accessToken === "") {
        throw new CertboundError(
          "invalid_token_response",
          "The credential's getToken() returned no access token. Check the credential: it must resolve to a TokenResult.",
        );
      }
      return result;
    };
    const first = await acquire(init.claims, false);
    const sent = await this.#send(first, url, init);
    const reacquire = reacquireFor(sent.response, first, sent.presented, init);
    if (reacquire === undefined) return sent.response;
    // Once: a resource that refuses every token must not turn one call into a loop of acquisitions.
    const second = await acquire(reacquire.claims ?? init.claims, true);
    const retried = await this.#send(second, url, init);
    if (retried.response.status !== 401) return retried.response;
    const challenge = parseBearerChallenge(retried.response.headers["www-authenticate"]);
    if (challenge.error === "invalid_token") {
      throw explainRejection(
        second,
        retried.presented,
        challenge,
        " It refused a second, newly acquired token too.",
      );
    }
    if (challenge.claims !== undefined) {
      throw new ServiceError(
        "resource_unauthorized",
        "The resource answered a new token, acquired with the claims it asked for, with another claims challenge. Check the app's Conditional Access policies and the resource's claims requirements.",
        { status: 401, errorCode: sanitizeServerText(challenge.error, 128) },
      );
    }
    return retried.response;
  }

  async #send(
    result: TokenResult,
    url: string,
    init: ResourceCallInit,
  ): Promise<{ response: HttpResponse; presented: ClientTlsIdentity | undefined }> {
    const binding = result.bindingCertificate;
    if (result.tokenType === MTLS_POP_TOKEN_TYPE && !binding) {
      throw new CertboundError(
        "binding_certificate_missing",
        "This is an mtls_pop token without its binding certificate, so the resource would refuse it. Pass the whole result of acquireToken, not a copy of the token.",
      );
    }
    const clientIdentity = init.clientIdentity ?? binding;
    // The same string for the same token: the transport's header check then recognises it without
    // scanning its ~1,300 characters again, and the socket writes a flat string.
    let authorization = this.#authorization;
    const scheme = this.#options.scheme;
    if (
      authorization === undefined ||
      result.accessToken !== this.#authorizedToken ||
      scheme !== this.#authorizedScheme
    ) {
      authorization = createAuthorizationHeader(result, scheme);
      this.#authorizedToken = result.accessToken;
      this.#authorizedScheme = scheme;
      this.#authorization = authorization;
    }
    const traced = diagnostics.resourceStart.hasSubscribers
      ? startResourceCall(init.method ?? "GET", url, result.tokenType, clientIdentity !== undefined)
      : undefined;
    const signal = linkSignals(this.#lifetime.signal, init.signal);
    try {
      const sending = this.#transport.send({
        method: init.method ?? "GET",
        url,
        headers: { ...lowerCaseKeys(init.headers), authorization },
        body: init.body,
        clientIdentity,
        ca: this.#options.ca,
        signal: signal.signal,
        timeoutMs: this.#timeoutMs,
        proxy: "environment",
      });
      const response = await (traced ? traced(sending) : sending);
      return { response, presented: clientIdentity };
    } finally {
      signal.dispose();
    }
  }

  /**
   * Ends this caller's calls in flight (they fail with `aborted`, saying the caller was closed),
   * refuses later calls, and closes the transport if this caller created it (a transport passed in
   * stays open for its owner). Idempotent.
   */
  async close(): Promise<void> {
    if (!this.#lifetime.signal.aborted) {
      this.#lifetime.abort(
        new CertboundError(
          "aborted",
          "@certbound/core: the ResourceCaller was closed (close() was called), which ended this call; create a new one.",
        ),
      );
    }
    if (this.#owned) await this.#transport.close?.();
  }

  /** Same as {@link ResourceCaller.close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function checkCredentialCall(init: CredentialCallInit): { scopes: readonly string[]; pop: boolean } {
  const { scopes } = init;
  if (
    !Array.isArray(scopes) ||
    scopes.length === 0 ||
    !scopes.every((s) => typeof s === "string" && s !== "")
  ) {
    throw invalidOptions(
      "@certbound/core",
      'ResourceCaller.call(credential, url, init) needs `init.scopes`, the scopes of the token to acquire, e.g. { scopes: ["https://vault.azure.net/.default"] }.',
    );
  }
  const pop = init.mtlsProofOfPossession ?? true;
  if (typeof pop !== "boolean") {
    throw invalidOptions("@certbound/core", "`mtlsProofOfPossession` must be true or false.");
  }
  return { scopes, pop };
}

/**
 * Whether a response asks for a new token, and with which claims. Follows MSAL.NET's
 * WwwAuthenticateParameters (claims decoded from base64 when they are base64, else taken as sent).
 */
function reacquireFor(
  response: HttpResponse,
  result: TokenResult,
  presented: ClientTlsIdentity | undefined,
  init: ResourceCallInit,
): Reacquire | undefined {
  if (response.status !== 401) return undefined;
  const challenge = parseBearerChallenge(response.headers["www-authenticate"]);
  if (challenge.claims !== undefined) {
    const claims = decodeClaimsChallenge(challenge.claims);
    if (claims === undefined) {
      throw new ServiceError(
        "resource_unauthorized",
        "The resource answered 401 with a claims challenge that is not a JSON object (nor base64 of one), so no token can satisfy it. Check the resource's WWW-Authenticate header.",
        { status: 401, errorCode: sanitizeServerText(challenge.error, 128) },
      );
    }
    return { claims };
  }
  if (challenge.error !== "invalid_token") return undefined;
  // Another certificate than the token's was presented on purpose: a new token would not help.
  if (init.clientIdentity !== undefined && init.clientIdentity !== result.bindingCertificate) {
    throw explainRejection(result, presented, challenge);
  }
  return { claims: undefined };
}

// Claims challenges are small JSON documents; anything longer is not worth sending to Entra.
const MAX_CLAIMS_LENGTH = 16 * 1024;

/**
 * Decodes the `claims` parameter of a `WWW-Authenticate` challenge into the JSON text to pass as
 * `claims` to a credential. Like MSAL.NET's `WwwAuthenticateParameters`, a value that is base64 is
 * decoded (Continuous Access Evaluation sends base64) and any other is taken as sent. Returns
 * `undefined` unless the result is a JSON object.
 *
 * @public
 * @example
 * ```ts
 * const { claims } = parseBearerChallenge(response.headers["www-authenticate"]);
 * const json = claims === undefined ? undefined : decodeClaimsChallenge(claims);
 * if (json) result = await credential.getToken(scopes, { claims: json, forceRefresh: true });
 * ```
 */
export function decodeClaimsChallenge(value: string): string | undefined {
  if (typeof value !== "string" || value === "" || value.length > MAX_CLAIMS_LENGTH) return undefined;
  const text =
    value.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(value)
      ? Buffer.from(value, "base64").toString("utf8")
      : value;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Only `https:` reaches a resource: over `http:` the token would travel in clear and an mTLS PoP
 * token's certificate could not be presented at all (plain HTTP has no client certificate).
 */
// The last URL that passed: resource calls repeat one URL, and parsing it is a share of a call.
let lastHttpsUrl: string | undefined;

function assertHttpsUrl(url: string): void {
  if (url === lastHttpsUrl) return;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed?.protocol === "https:") {
    if (typeof url === "string") lastHttpsUrl = url;
    return;
  }
  const shown = sanitizeServerText(
    parsed ? `${parsed.protocol}//${parsed.host}${parsed.pathname}` : url,
    200,
  );
  throw invalidOptions(
    "@certbound/core",
    `ResourceCaller.call() needs an https:// URL, got "${shown ?? ""}". A token sent over plain HTTP travels in clear, and an mTLS PoP token's certificate cannot be presented: use the resource's https:// address.`,
  );
}

// The caller's lifetime and the call's own signal, as one signal for the transport; `dispose`
// removes the listeners so a long-lived caller does not collect one per finished call.
function linkSignals(
  lifetime: AbortSignal,
  own: AbortSignal | undefined,
): { signal: AbortSignal; dispose: () => void } {
  if (own === undefined) return { signal: lifetime, dispose: noop };
  const both = new AbortController();
  if (own.aborted) both.abort(own.reason);
  // onAbort shares one listener per signal: many calls on one signal print no MaxListeners warning.
  const offLifetime = onAbort(lifetime, () => both.abort(lifetime.reason));
  const offOwn = onAbort(own, () => both.abort(own.reason));
  return {
    signal: both.signal,
    dispose() {
      offLifetime();
      offOwn();
    },
  };
}

const noop = () => {};

function lowerCaseKeys(headers: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined) return out;
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

/**
 * Reads the parameters of a `WWW-Authenticate: Bearer ...` challenge.
 *
 * @public
 * @example
 * ```ts
 * parseBearerChallenge('Bearer error="invalid_token", error_description="expired"'); // { error: "invalid_token", error_description: "expired" }
 * ```
 */
export function parseBearerChallenge(header: string | undefined): Record<string, string> {
  const params: Record<string, string> = {};
  if (!header) return params;
  for (const match of header.matchAll(/([a-zA-Z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) {
    params[(match[1] as string).toLowerCase()] = (match[2] ?? match[3] ?? "").replace(/\\(.)/g, "$1");
  }
  return params;
}

function explainRejection(
  result: TokenResult,
  presented: ClientTlsIdentity | undefined,
  challenge: Record<string, string>,
  attempts = "",
): ServiceError {
  // The resource's own words, made safe: it may echo the token it was shown (redacted here),
  // or send control characters to forge log lines.
  const description =
    sanitizeServerText(redactSecrets(challenge.error_description ?? "", [result.accessToken]), 200) ?? "";
  const bound = result.bindingCertificate?.x5tS256 ?? tokenBindingThumbprint(result.accessToken);
  const details = {
    status: 401,
    errorCode: "invalid_token",
    errorDescription: description || undefined,
  };
  const said = `${attempts}${description ? ` Resource said: ${description}` : ""}`;
  if (presented === undefined) {
    return new ServiceError(
      "resource_unauthorized",
      `The resource refused the token and no TLS client certificate was presented. If it requires mutual TLS, acquire an mtls_pop token (mtlsProofOfPossession: true) and call with its result.${said}`,
      details,
    );
  }
  const mismatch =
    (bound !== undefined && presented.x5tS256 !== bound) ||
    /mismatch|cnf|thumbprint|binding/i.test(description);
  if (mismatch) {
    return new ServiceError(
      "binding_certificate_mismatch",
      `The resource refused the token because the TLS client certificate (x5t#S256 ${presented.x5tS256}) is not the one the token is bound to (${bound ?? "unknown"}). Call the resource with result.bindingCertificate.${said}`,
      details,
    );
  }
  const expired = result.expiresOn.getTime() <= Date.now() || /expire/i.test(description);
  const cause = expired
    ? "the token has expired: acquire a new one (acquireToken refreshes automatically)"
    : /aud/i.test(description)
      ? "the token is for another audience: request the scope of this resource"
      : "the token is expired, for another audience, or was presented with another certificate than result.bindingCertificate";
  return new ServiceError(
    "resource_unauthorized",
    `The resource refused the token (401 invalid_token): likely ${cause}.${said}`,
    details,
  );
}
