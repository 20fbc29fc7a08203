import type { HttpRequest } from "../seams/transport";

/**
 * How many characters of each server-provided field an error keeps. A server decides what it
 * sends, so every field that reaches a message or an error field has a cap: a hostile or broken
 * server once turned a 900 KB `error` field into a 900 KB message.
 *
 * - `code` 128: OAuth `error` codes and managed-identity `code`s are short ASCII tokens
 *   (`invalid_client` is 14 characters); 128 leaves room for any real one.
 * - `description` 2048: Entra's `error_description` carries the AADSTS text plus trace id,
 *   correlation id and timestamp lines, 300 to 700 characters in practice; 2 KiB keeps them whole.
 * - `id` 128: correlation and trace ids are UUIDs (36 characters).
 * - `claims` 16384: a claims challenge is JSON the app sends back verbatim, so it is never cut
 *   (a cut one is invalid JSON): one longer than this is dropped. Entra's are under 1 KB.
 *
 * @public
 * @example
 * ```ts
 * sanitizeServerText(json.error, SERVER_TEXT_LIMITS.code);
 * ```
 */
export const SERVER_TEXT_LIMITS = {
  code: 128,
  description: 2048,
  id: 128,
  claims: 16384,
} as const;

// C0 controls (CR/LF and ESC among them), DEL, C1 controls, and the Unicode characters that reorder
// or break displayed text (bidi overrides and isolates, line and paragraph separators): none of
// them can forge a log line or repaint a terminal once removed.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g;

/**
 * A server-provided string made safe for a message or an error field: control characters become
 * one space (so multi-line text stays readable on one line), and text beyond `maxChars` is cut
 * with a note of how much was left out. `undefined` and non-strings give `undefined`.
 *
 * @public
 * @example
 * ```ts
 * sanitizeServerText("bad\r\nInjected: 1", 128); // "bad Injected: 1"
 * ```
 */
export function sanitizeServerText(value: unknown, maxChars: number): string | undefined {
  if (typeof value !== "string") return undefined;
  // Cut first (with slack for removed characters) so a 900 KB field is never scanned whole.
  const head = value.length > maxChars * 2 ? value.slice(0, maxChars * 2) : value;
  const clean = head.replace(CONTROL, " ").trim();
  const dropped = value.length - head.length;
  if (clean.length <= maxChars && dropped === 0) return clean === "" ? undefined : clean;
  let cut = Math.min(maxChars, clean.length);
  // Never split a surrogate pair.
  const last = clean.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut -= 1;
  return `${clean.slice(0, cut)}... (${clean.length - cut + dropped} more characters)`;
}

/**
 * The marker that replaces a secret the request carried when a server echoes it back.
 *
 * @public
 * @example
 * ```ts
 * expect(error.message).toContain(REDACTED);
 * ```
 */
export const REDACTED = "[redacted]";

// Headers whose values are credentials (after an optional auth scheme).
const SECRET_HEADERS = new Set([
  "authorization",
  "proxy-authorization",
  "x-identity-header",
  "secret",
  "cookie",
]);
// Form fields that are credentials.
const SECRET_FIELDS = ["client_assertion", "client_secret", "assertion", "refresh_token", "password"];
// Pieces shorter than this are not secret enough to be worth hunting (and would redact ordinary words).
const MIN_SECRET_PIECE = 12;

/**
 * The secret values a request carried: credential headers (`Authorization` without its scheme,
 * `X-IDENTITY-HEADER`, `secret`, ...) and credential form fields (`client_assertion`, ...). Error
 * paths pass them to {@link redactSecrets} so that a server echoing them back shows nothing.
 *
 * @public
 * @example
 * ```ts
 * const secrets = requestSecrets(request); // ["eyJhbGciOi..."]
 * ```
 */
export function requestSecrets(request: Pick<HttpRequest, "headers" | "body"> | undefined): string[] {
  if (!request) return [];
  const found: string[] = [];
  for (const [name, value] of Object.entries(request.headers)) {
    if (!SECRET_HEADERS.has(name.toLowerCase()) || typeof value !== "string") continue;
    found.push(value);
    const space = value.indexOf(" ");
    if (space > 0) found.push(value.slice(space + 1).trim());
  }
  if (typeof request.body === "string" && request.body.includes("=")) {
    const form = new URLSearchParams(request.body);
    for (const field of SECRET_FIELDS) {
      const value = form.get(field);
      if (value) found.push(value);
    }
  }
  return found;
}

/**
 * Replaces every secret in `text` with {@link REDACTED}: each value whole, URL-encoded, and each of
 * its dot-separated parts of 12 characters or more (a JWT's payload and signature, so that an
 * echoed signature alone is caught too). Longest first, so a part never leaves half a secret.
 *
 * @public
 * @example
 * ```ts
 * redactSecrets(`bad assertion ${assertion}`, [assertion]); // "bad assertion [redacted]"
 * ```
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  if (secrets.length === 0) return text;
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_PIECE) continue;
    needles.add(secret);
    needles.add(encodeURIComponent(secret));
    for (const part of secret.split(".")) if (part.length >= MIN_SECRET_PIECE) needles.add(part);
  }
  let out = text;
  for (const needle of [...needles].sort((a, b) => b.length - a.length)) {
    if (out.includes(needle)) out = out.split(needle).join(REDACTED);
  }
  return out;
}

/**
 * A server-provided string for an error: secrets the request carried redacted, then
 * {@link sanitizeServerText}. Redaction runs first so that a cap never leaves a secret's head.
 *
 * @public
 * @example
 * ```ts
 * const description = serverText(json.error_description, SERVER_TEXT_LIMITS.description, requestSecrets(request));
 * ```
 */
export function serverText(value: unknown, maxChars: number, secrets: readonly string[]): string | undefined {
  if (typeof value !== "string") return undefined;
  // Redact the whole value (bodies are capped by the transport, so this is bounded): cutting first
  // could leave a secret's head visible once redaction shortened the text before it.
  return sanitizeServerText(redactSecrets(value, secrets), maxChars);
}
