import type { KeyObject } from "node:crypto";

/**
 * The client side of a mutual-TLS connection: who we are to the server.
 *
 * Transports pool connections per certificate (computed from `certificatePem`, checked against
 * `x5tS256`); a connection opened with one identity is never reused for another identity or for
 * a request without one.
 *
 * @public
 * @example
 * ```ts
 * const identity = clientTlsIdentity({ certificatePem, privateKey });
 * ```
 */
export interface ClientTlsIdentity {
  /** The leaf certificate first, then any intermediates, as PEM. */
  readonly certificatePem: string;
  /** The private key of the leaf certificate. */
  readonly privateKey: KeyObject;
  /** base64url(SHA-256(DER of the leaf)): the stable id of this identity. */
  readonly x5tS256: string;
}

/**
 * Whether a request may go through an HTTP proxy.
 * - `"never"`: always direct (IMDS and every managed-identity endpoint).
 * - `"environment"`: honour `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` when the transport enables proxies.
 *
 * Link-local (169.254.0.0/16) and loopback destinations are direct whatever the policy says.
 * @public
 */
export type ProxyPolicy = "never" | "environment";

/**
 * One HTTP request as certbound sends it.
 *
 * @public
 * @example
 * ```ts
 * const request: HttpRequest = { method: "GET", url: "https://127.0.0.1:8443/data", headers: {} };
 * ```
 */
export interface HttpRequest {
  readonly method: "GET" | "POST";
  readonly url: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array | undefined;
  /** Present for mutual TLS: the certificate and key to present in the handshake. */
  readonly clientIdentity?: ClientTlsIdentity | undefined;
  /** Extra certificate authorities (PEM) trusted for this request, on top of the system store. */
  readonly ca?: string | readonly string[] | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Overall budget for this one attempt, in milliseconds. */
  readonly timeoutMs?: number | undefined;
  /** @default "never" */
  readonly proxy?: ProxyPolicy | undefined;
  /**
   * Thumbprint the server certificate must have, hex (colons optional): 40 digits for SHA-1 (what
   * Service Fabric's `IDENTITY_SERVER_THUMBPRINT` holds) or 64 for SHA-256. When set, the server is
   * verified by this pin instead of by a CA chain (Service Fabric presents a self-signed certificate).
   */
  readonly pinnedServerThumbprint?: string | undefined;
}

/**
 * The answer to an {@link HttpRequest}. 4xx and 5xx are responses, never exceptions: the retry
 * engine and the caller decide what they mean.
 * @public
 */
export interface HttpResponse {
  readonly status: number;
  /** Header names in lower case; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** The body as UTF-8 text. */
  readonly body: string;
}

/**
 * The HTTP seam. Adapters: `@certbound/http-undici`, `@certbound/http-axios`, or your own
 * (check it with `testHttpTransport` from `@certbound/testing`).
 *
 * Contract: reject only with a {@link CertboundError} whose code is `network_error`,
 * `tls_handshake_failed`, `timeout`, `aborted` or `response_too_large`, or `invalid_options` for a
 * header that cannot be sent (CR/LF, control or non-latin-1 characters), refused before any I/O;
 * never follow redirects; never reuse a connection across client identities (keyed by the
 * certificate, never by the `x5tS256` field alone); decode gzip/deflate/br answers within the
 * body cap.
 *
 * @public
 * @example
 * ```ts
 * const transport: HttpTransport = { send: async (request) => ({ status: 200, headers: {}, body: "{}" }) };
 * ```
 */
export interface HttpTransport {
  send(request: HttpRequest): Promise<HttpResponse>;
  /** Closes pooled connections. The transport must not be used afterwards. */
  close?(): Promise<void>;
}

/**
 * The default cap on a response body: 1 MiB.
 *
 * @public
 * @example
 * ```ts
 * createUndiciTransport({ maxResponseBytes: 4 * DEFAULT_MAX_RESPONSE_BYTES });
 * ```
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
