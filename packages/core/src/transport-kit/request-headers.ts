import { CertboundError } from "../protocol/errors";
import { sanitizeServerText } from "../protocol/server-text";

// RFC 9110 token characters: what a field name may hold.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// What Node's http stack accepts in a field value: tab, visible ASCII, space and latin-1 (obs-text).
// No CR, LF or NUL (header injection), nothing above U+00FF (not representable on the wire).
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Refuses, before any connection is made, a request header that cannot be sent as it is: a name
 * that is not an HTTP token, or a value with CR, LF, NUL, another control character or a
 * character outside latin-1. Fails with `invalid_options` (never retried) naming the header, never
 * its value (it may be a secret). undici used to fail such a request as a retried network error
 * and axios to rewrite the value silently; every certbound transport now refuses it the same way.
 *
 * @public
 * @example
 * ```ts
 * assertSendableHeaders(request.headers, "@my-scope/my-transport");
 * ```
 */
export function assertSendableHeaders(headers: Readonly<Record<string, unknown>>, packageName: string): void {
  for (const name in headers) {
    if (!Object.hasOwn(headers, name)) continue;
    const value = headers[name];
    if (!TOKEN.test(name)) {
      throw new CertboundError(
        "invalid_options",
        `${packageName}: the request header name "${sanitizeServerText(name, 64) ?? ""}" is not a valid HTTP field name (letters, digits and !#$%&'*+.^_\`|~- only).`,
      );
    }
    if (typeof value !== "string") {
      throw new CertboundError(
        "invalid_options",
        `${packageName}: the request header "${name}" must be a string, got ${value === null ? "null" : typeof value}.`,
      );
    }
    // The same long value again (an Authorization header with a cached token, on every resource
    // call): it passed this very check, and a string's content never changes.
    if (value === lastLongValue) continue;
    const bad = BAD_VALUE.exec(value);
    if (bad) {
      const code = bad[0].codePointAt(0) ?? 0;
      const what =
        code === 0x0d || code === 0x0a
          ? "a line break (CR/LF)"
          : code > 0xff
            ? "a character outside latin-1"
            : "a control character";
      throw new CertboundError(
        "invalid_options",
        `${packageName}: the value of the request header "${name}" contains ${what} at position ${bad.index}, so it cannot be sent. Remove it (the value is not shown: it may be a secret).`,
      );
    }
    if (value.length >= LONG_VALUE) lastLongValue = value;
  }
}

// Values at least this long are worth remembering: a token is about 1,300 characters.
const LONG_VALUE = 256;
// The last long value that passed (one string, so a secret is kept no longer than its next use).
let lastLongValue: string | undefined;
