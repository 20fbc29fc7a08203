import {
  CertboundError,
  type ClientTlsIdentity,
  type Credential,
  createAuthorizationHeader,
  isCredential,
  type ProxyPolicy,
  type TokenResult,
  verifyMtlsPopResult,
} from "@certbound/core";
import { decodeClaimsChallenge, invalidOptions, parseBearerChallenge } from "@certbound/core/credential-kit";
import { type Dispatcher, fetch, Headers, type RequestInit, type Response } from "undici";
import { PACKAGE } from "./package-name";
import { createUndiciTransport, type UndiciTransport } from "./undici-transport";

/**
 * Options of {@link createPopFetch}.
 *
 * @public
 * @example
 * ```ts
 * const options: PopFetchOptions = { credential: app, scopes: ["api://my-api/.default"] };
 * ```
 */
export interface PopFetchOptions {
  /** Any certbound credential (`createConfidentialClient`, `createManagedIdentityClient`, your own). */
  readonly credential: Credential;
  /** The scopes of the token to attach, e.g. `["https://vault.azure.net/.default"]`. */
  readonly scopes: readonly string[];
  /**
   * The transport whose per-certificate pools the calls use: pass the one your credential sends
   * with to share connections. Left open by `close()`. @default a new one, closed by `close()`
   */
  readonly transport?: UndiciTransport | undefined;
  /** Extra trusted CAs (PEM) for the resource's server certificate. */
  readonly ca?: string | readonly string[] | undefined;
  /**
   * Attach an mTLS PoP token and present its binding certificate. `false` attaches a Bearer token
   * and presents no certificate. @default true
   */
  readonly mtlsProofOfPossession?: boolean | undefined;
  /** @default "Bearer" (Entra's mTLS PoP tokens travel as Bearer; the TLS handshake proves possession) */
  readonly scheme?: "Bearer" | "mtls_pop" | undefined;
  /** Whether calls may use the transport's proxy settings. @default "environment" */
  readonly proxy?: ProxyPolicy | undefined;
}

/**
 * `init` of a {@link PopFetch} call: undici's `RequestInit` without `dispatcher` (the fetch picks
 * the certificate's) and with `redirect` limited to `"manual"` (the default) or `"error"`.
 *
 * @public
 * @example
 * ```ts
 * const init: PopFetchInit = { method: "POST", headers: { "content-type": "application/json" }, body: "{}" };
 * ```
 */
export type PopFetchInit = Omit<RequestInit, "dispatcher" | "redirect"> & {
  readonly redirect?: "manual" | "error" | undefined;
};

/**
 * A WHATWG `fetch` (undici's) that attaches a token from the credential and presents its binding
 * certificate. Close it when done (it closes the transport it created).
 *
 * @public
 * @example
 * ```ts
 * const response = await popFetch("https://api.contoso.example/items");
 * console.log(response.status, await response.json());
 * await popFetch.close();
 * ```
 */
export interface PopFetch {
  (input: string | URL, init?: PopFetchInit): Promise<Response>;
  /** Closes the transport if this fetch created it. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates a {@link PopFetch}: each call gets a token from `credential` (an mTLS PoP token by
 * default, from the credential's cache when fresh) and sends it in `Authorization` over a
 * connection that presents the token's binding certificate. Connections come from the transport's
 * pool for that certificate: one TLS handshake per certificate and origin, shared by every call.
 *
 * The same refusal rules as `ResourceCaller`: only `https:` URLs; redirects are never followed
 * (a 3xx is returned as is, so the token never reaches another origin); a 401 with a claims
 * challenge (`WWW-Authenticate: Bearer ..., claims="..."`) or `error="invalid_token"` gets one new
 * token (cache bypassed, the challenge's claims passed on) and one retry, when the body can be
 * sent again (not a stream).
 *
 * @public
 * @example
 * ```ts
 * const popFetch = createPopFetch({ credential: app, scopes: ["api://my-api/.default"] });
 * const response = await popFetch("https://api.contoso.example/items");
 * ```
 */
export function createPopFetch(options: PopFetchOptions): PopFetch {
  const { credential, scopes, ca, scheme } = checkOptions(options);
  const pop = options.mtlsProofOfPossession ?? true;
  const proxy = options.proxy ?? "environment";
  const owned = options.transport === undefined;
  const transport = options.transport ?? createUndiciTransport();
  // One Dispatcher per certificate object, reused across calls; the transport keys its pools by the
  // certificate itself, so two objects for one certificate still share connections.
  const dispatchers = new WeakMap<ClientTlsIdentity, Dispatcher>();
  let bearerDispatcher: Dispatcher | undefined;
  const dispatcherFor = (identity: ClientTlsIdentity | undefined): Dispatcher => {
    if (identity === undefined) {
      bearerDispatcher ??= transport.dispatcherFor(undefined, { ca, proxy });
      return bearerDispatcher;
    }
    let dispatcher = dispatchers.get(identity);
    if (!dispatcher) {
      dispatcher = transport.dispatcherFor(identity, { ca, proxy });
      dispatchers.set(identity, dispatcher);
    }
    return dispatcher;
  };

  const acquire = async (
    claims: string | undefined,
    forceRefresh: boolean,
    signal: AbortSignal | undefined,
  ): Promise<TokenResult> => {
    const result = await credential.getToken(scopes, {
      mtlsProofOfPossession: pop,
      claims,
      forceRefresh: forceRefresh || undefined,
      signal,
    });
    if (pop) return verifyMtlsPopResult(result);
    if (typeof result?.accessToken !== "string" || result.accessToken === "") {
      throw new CertboundError(
        "invalid_token_response",
        "The credential's getToken() returned no access token. Check the credential: it must resolve to a TokenResult.",
      );
    }
    return result;
  };

  const send = async (url: URL, init: PopFetchInit, result: TokenResult): Promise<Response> => {
    // undici hands a keep-alive connection back to its pool one event-loop turn after the previous
    // response's body ended (setImmediate); a call sent sooner would open a second connection.
    // Waiting that turn keeps back-to-back calls on one connection (one handshake per origin).
    await new Promise<void>((resolve) => setImmediate(resolve));
    const headers = new Headers(init.headers as ConstructorParameters<typeof Headers>[0]);
    headers.set("authorization", createAuthorizationHeader(result, scheme));
    return fetch(url, {
      ...(init as RequestInit),
      headers,
      redirect: init.redirect ?? "manual",
      dispatcher: dispatcherFor(pop ? result.bindingCertificate : undefined),
    });
  };

  const popFetch = async (input: string | URL, init: PopFetchInit = {}): Promise<Response> => {
    init.signal?.throwIfAborted();
    const url = httpsUrl(input);
    checkInit(init);
    const first = await acquire(undefined, false, init.signal ?? undefined);
    const response = await send(url, init, first);
    if (response.status !== 401 || !replayable(init.body)) return response;
    const challenge = parseBearerChallenge(response.headers.get("www-authenticate") ?? undefined);
    let claims: string | undefined;
    if (challenge.claims !== undefined) {
      claims = decodeClaimsChallenge(challenge.claims);
      // A challenge no token can satisfy: hand the 401 over rather than asking Entra for nothing.
      if (claims === undefined) return response;
    } else if (challenge.error !== "invalid_token") {
      return response;
    }
    // Once: a resource that refuses every token must not turn one call into a loop of acquisitions.
    await response.body?.cancel();
    const second = await acquire(claims, true, init.signal ?? undefined);
    return send(url, init, second);
  };

  const close = async (): Promise<void> => {
    if (owned) await transport.close();
  };
  return Object.assign(popFetch, { close, [Symbol.asyncDispose]: close });
}

function checkOptions(options: PopFetchOptions): {
  credential: Credential;
  scopes: readonly string[];
  ca: string | readonly string[] | undefined;
  scheme: "Bearer" | "mtls_pop" | undefined;
} {
  if (typeof options !== "object" || options === null || !isCredential(options.credential)) {
    throw invalidOptions(
      PACKAGE,
      "createPopFetch needs `credential`: a certbound credential such as createConfidentialClient(...) or createManagedIdentityClient(...).",
    );
  }
  const { scopes } = options;
  if (
    !Array.isArray(scopes) ||
    scopes.length === 0 ||
    !scopes.every((s) => typeof s === "string" && s !== "")
  ) {
    throw invalidOptions(
      PACKAGE,
      'createPopFetch needs `scopes`, the scopes of the token to attach, e.g. ["https://vault.azure.net/.default"].',
    );
  }
  if (options.mtlsProofOfPossession !== undefined && typeof options.mtlsProofOfPossession !== "boolean") {
    throw invalidOptions(PACKAGE, "`mtlsProofOfPossession` must be true or false.");
  }
  if (options.transport !== undefined && typeof options.transport?.dispatcherFor !== "function") {
    throw invalidOptions(PACKAGE, "`transport` must come from createUndiciTransport().");
  }
  if (options.proxy !== undefined && options.proxy !== "never" && options.proxy !== "environment") {
    throw invalidOptions(PACKAGE, '`proxy` must be "never" or "environment".');
  }
  return { credential: options.credential, scopes: [...scopes], ca: options.ca, scheme: options.scheme };
}

function checkInit(init: PopFetchInit): void {
  const raw = init as RequestInit;
  if (raw.dispatcher !== undefined) {
    throw invalidOptions(
      PACKAGE,
      "Do not pass `dispatcher`: the fetch uses the one of the token's certificate.",
    );
  }
  const redirect = raw.redirect;
  if (redirect !== undefined && redirect !== "manual" && redirect !== "error") {
    throw invalidOptions(
      PACKAGE,
      `\`redirect: "${String(redirect).slice(0, 20)}"\` is refused: a followed redirect would carry the token to another address. Use "manual" (the default) and decide yourself.`,
    );
  }
}

function httpsUrl(input: string | URL): URL {
  let url: URL | undefined;
  try {
    url = new URL(String(input));
  } catch {
    url = undefined;
  }
  if (url?.protocol === "https:") return url;
  const shown = url ? `${url.protocol}//${url.host}${url.pathname}` : String(input);
  throw invalidOptions(
    PACKAGE,
    `createPopFetch's fetch needs an https:// URL, got "${shown.replace(/[^\x20-\x7e]/g, "?").slice(0, 200)}". A token sent over plain HTTP travels in clear, and a certificate cannot be presented: use the resource's https:// address.`,
  );
}

/** Whether the body can be sent a second time (a stream is consumed by the first attempt). */
function replayable(body: RequestInit["body"]): boolean {
  if (body === undefined || body === null || typeof body === "string") return true;
  return (
    body instanceof Uint8Array ||
    body instanceof ArrayBuffer ||
    body instanceof URLSearchParams ||
    body instanceof Blob ||
    ArrayBuffer.isView(body)
  );
}
