import { type AuthorizationScheme, createAuthorizationHeader } from "./authorization-header";
import { throwIfAborted } from "./clock";
import { durationOption } from "./duration-option";
import { CertboundError, invalidOptions, ServiceError } from "./errors";
import { tokenBindingThumbprint } from "./jwt";
import { MTLS_POP_TOKEN_TYPE, type TokenResult } from "./result";
import { redactSecrets, sanitiseServerText } from "./server-text";
import type { ClientTlsIdentity, HttpResponse, HttpTransport } from "./transport";

/** Options of {@link ResourceCaller}. */
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

/** One resource call. */
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

/**
 * Calls a protected resource with a token: over mutual TLS with `result.bindingCertificate` and the
 * token in the `Authorization` header. A PoP token without its certificate is refused before any
 * I/O; a 401 `invalid_token` answer becomes an error that names the likely cause.
 *
 * @example
 * ```ts
 * await using caller = new ResourceCaller({ transport: createUndiciTransport() });
 * const response = await caller.call(result, "https://vault.example/secrets/s1");
 * console.log(response.status, response.body);
 * ```
 */
export class ResourceCaller {
  readonly #transport: HttpTransport;
  readonly #owned: boolean;
  readonly #options: ResourceCallerOptions;
  readonly #timeoutMs: number;

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
    this.#owned = typeof options.transport === "function";
    this.#transport = typeof options.transport === "function" ? options.transport() : options.transport;
    this.#options = options;
  }

  /** Sends the request; resolves with the response for every status but a 401 `invalid_token`. */
  async call(result: TokenResult, url: string, init: ResourceCallInit = {}): Promise<HttpResponse> {
    throwIfAborted(init.signal);
    assertHttpsUrl(url);
    const binding = result.bindingCertificate;
    if (result.tokenType === MTLS_POP_TOKEN_TYPE && !binding) {
      throw new CertboundError(
        "binding_certificate_missing",
        "This is an mtls_pop token without its binding certificate, so the resource would refuse it. Pass the whole result of acquireToken, not a copy of the token.",
      );
    }
    const clientIdentity = init.clientIdentity ?? binding;
    const authorization = createAuthorizationHeader(result, this.#options.scheme);
    const response = await this.#transport.send({
      method: init.method ?? "GET",
      url,
      headers: { ...lowerCaseKeys(init.headers), authorization },
      body: init.body,
      clientIdentity,
      ca: this.#options.ca,
      signal: init.signal,
      timeoutMs: this.#timeoutMs,
      proxy: "environment",
    });
    if (response.status === 401) {
      const challenge = parseBearerChallenge(response.headers["www-authenticate"]);
      if (challenge.error === "invalid_token") throw explainRejection(result, clientIdentity, challenge);
    }
    return response;
  }

  /** Closes the transport if this caller created it. */
  async close(): Promise<void> {
    if (this.#owned) await this.#transport.close?.();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Only `https:` reaches a resource: over `http:` the token would travel in clear and an mTLS PoP
 * token's certificate could not be presented at all (plain HTTP has no client certificate).
 */
function assertHttpsUrl(url: string): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed?.protocol === "https:") return;
  const shown = sanitiseServerText(
    parsed ? `${parsed.protocol}//${parsed.host}${parsed.pathname}` : url,
    200,
  );
  throw invalidOptions(
    "@certbound/core",
    `ResourceCaller.call() needs an https:// URL, got "${shown ?? ""}". A token sent over plain HTTP travels in clear, and an mTLS PoP token's certificate cannot be presented: use the resource's https:// address.`,
  );
}

function lowerCaseKeys(headers: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k.toLowerCase()] = v;
  return out;
}

/**
 * Reads the parameters of a `WWW-Authenticate: Bearer ...` challenge.
 *
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
): ServiceError {
  // The resource's own words, made safe: it may echo the token it was shown (redacted here),
  // or send control characters to forge log lines.
  const description =
    sanitiseServerText(redactSecrets(challenge.error_description ?? "", [result.accessToken]), 200) ?? "";
  const bound = result.bindingCertificate?.x5tS256 ?? tokenBindingThumbprint(result.accessToken);
  const details = {
    status: 401,
    errorCode: "invalid_token",
    errorDescription: description || undefined,
  };
  const said = description ? ` Resource said: ${description}` : "";
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
