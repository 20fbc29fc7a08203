import { setMaxListeners } from "node:events";
import { type AuthorizationScheme, createAuthorizationHeader } from "./authorization-header";
import { throwIfAborted } from "./clock";
import { CertboundError, invalidOptions, ServiceError } from "./errors";
import { tokenBindingThumbprint } from "./jwt";
import { MTLS_POP_TOKEN_TYPE, type TokenResult } from "./result";
import type { ClientTlsIdentity, HttpResponse, HttpTransport } from "./transport";
import { assertKnownKeys, unknownOptionError } from "./unknown-keys";

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
    assertKnownKeys("@certbound/core", options, OPTION_KEYS, "ResourceCaller options");
    this.#owned = typeof options.transport === "function";
    this.#transport = typeof options.transport === "function" ? options.transport() : options.transport;
    this.#options = options;
    // Every call in flight listens on this one signal; dozens at once are normal, not a leak.
    setMaxListeners(0, this.#lifetime.signal);
  }

  /** Sends the request; resolves with the response for every status but a 401 `invalid_token`. */
  async call(result: TokenResult, url: string, init: ResourceCallInit = {}): Promise<HttpResponse> {
    throwIfAborted(this.#lifetime.signal);
    // A misspelt key (`header`, `clientIdentitiy`) would otherwise be ignored without a word.
    for (const key in init) {
      switch (key) {
        case "method":
        case "headers":
        case "body":
        case "signal":
        case "clientIdentity":
          continue;
        default:
          throw unknownOptionError("@certbound/core", key, CALL_KEYS, "the ResourceCaller.call init");
      }
    }
    throwIfAborted(init.signal);
    const binding = result.bindingCertificate;
    if (result.tokenType === MTLS_POP_TOKEN_TYPE && !binding) {
      throw new CertboundError(
        "binding_certificate_missing",
        "This is an mtls_pop token without its binding certificate, so the resource would refuse it. Pass the whole result of acquireToken, not a copy of the token.",
      );
    }
    const clientIdentity = init.clientIdentity ?? binding;
    const signal = linkSignals(this.#lifetime.signal, init.signal);
    let response: HttpResponse;
    try {
      response = await this.#transport.send({
        method: init.method ?? "GET",
        url,
        headers: {
          ...lowerCaseKeys(init.headers),
          authorization: createAuthorizationHeader(result, this.#options.scheme),
        },
        body: init.body,
        clientIdentity,
        ca: this.#options.ca,
        signal: signal.signal,
        timeoutMs: this.#options.timeoutMs ?? 30_000,
        proxy: "environment",
      });
    } finally {
      signal.dispose();
    }
    if (response.status === 401) {
      const challenge = parseBearerChallenge(response.headers["www-authenticate"]);
      if (challenge.error === "invalid_token") throw explainRejection(result, clientIdentity, challenge);
    }
    return response;
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

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

// The caller's lifetime and the call's own signal, as one signal for the transport; `dispose`
// removes the listeners so a long-lived caller does not collect one per finished call.
function linkSignals(
  lifetime: AbortSignal,
  own: AbortSignal | undefined,
): { signal: AbortSignal; dispose: () => void } {
  if (own === undefined) return { signal: lifetime, dispose: noop };
  const both = new AbortController();
  const fromLifetime = () => both.abort(lifetime.reason);
  const fromOwn = () => both.abort(own.reason);
  lifetime.addEventListener("abort", fromLifetime, { once: true });
  own.addEventListener("abort", fromOwn, { once: true });
  return {
    signal: both.signal,
    dispose() {
      lifetime.removeEventListener("abort", fromLifetime);
      own.removeEventListener("abort", fromOwn);
    },
  };
}

const noop = () => {};

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
  const description = (challenge.error_description ?? "").slice(0, 200);
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
