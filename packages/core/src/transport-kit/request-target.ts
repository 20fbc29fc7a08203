import { CertboundError } from "../protocol/errors";
import { endpointOf } from "../retry/send-with-retry";
import type { HttpRequest } from "../seams/transport";
import { assertSendableHeaders } from "./request-headers";
import { parsePinnedThumbprint } from "./server-pin";

/**
 * Where a request goes, checked before any connection is made.
 *
 * @public
 * @example
 * ```ts
 * const { endpoint, url, pin }: RequestTarget = parseRequestTarget(request, "@my-scope/my-transport");
 * ```
 */
export interface RequestTarget {
  /** The URL without its query string (which may carry identifiers): safe for messages and logs. */
  readonly endpoint: string;
  /** The parsed URL, `http:` or `https:`. */
  readonly url: URL;
  /** The normalised server pin (lower-case hex), when the request has one. */
  readonly pin: string | undefined;
}

/**
 * Parses a request's URL and pin and checks its headers. A URL that does not parse or is not
 * `http:`/`https:` fails with `network_error` (message prefixed with `packageName`); a malformed
 * pin with `tls_handshake_failed`; a header that cannot be sent as it is (CR/LF, control or
 * non-latin-1 characters) with `invalid_options` ({@link assertSendableHeaders}).
 *
 * @public
 * @example
 * ```ts
 * async send(request) {
 *   if (request.signal?.aborted) throw abortedError(request.signal);
 *   const { endpoint, url, pin } = parseRequestTarget(request, "@my-scope/my-transport");
 *   // ...
 * }
 * ```
 */
export function parseRequestTarget(
  request: Pick<HttpRequest, "url" | "pinnedServerThumbprint"> & Partial<Pick<HttpRequest, "headers">>,
  packageName: string,
): RequestTarget {
  if (request.headers) assertSendableHeaders(request.headers, packageName);
  const endpoint = endpointOf(String(request.url));
  let url: URL;
  // Resource calls repeat one URL: parse it once (a fresh URL object costs a share of a call on
  // loopback). Handed out again only while nobody changed it (its href is what it was parsed to).
  if (request.url === last.raw && last.url !== undefined && last.url.href === last.href) url = last.url;
  else {
    try {
      url = new URL(request.url);
    } catch (cause) {
      throw new CertboundError("network_error", `${packageName}: "${endpoint}" is not a valid URL.`, {
        cause,
      });
    }
    last.raw = request.url;
    last.url = url;
    last.href = url.href;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new CertboundError(
      "network_error",
      `${packageName}: only http: and https: URLs are supported, got ${url.protocol}`,
    );
  }
  return { endpoint, url, pin: parsePinnedThumbprint(request.pinnedServerThumbprint, endpoint) };
}

// The last URL parsed, as it was given and as parsed.
const last: { raw: string | undefined; url: URL | undefined; href: string } = {
  raw: undefined,
  url: undefined,
  href: "",
};
