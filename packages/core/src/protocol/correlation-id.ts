import { randomUUID } from "node:crypto";
import { invalidOptions } from "./errors";

/**
 * The longest `correlationId` accepted: 128 characters. A UUID has 36; the cap leaves room for
 * other id schemes while keeping a header value (and every log line it appears in) short.
 *
 * @public
 * @example
 * ```ts
 * if (id.length > MAX_CORRELATION_ID_LENGTH) throw new Error("too long");
 * ```
 */
export const MAX_CORRELATION_ID_LENGTH = 128;

// Printable ASCII without space: what an HTTP header value can carry unchanged on every client
// (undici refuses CR/LF, axios rewrites it) and what a log line can show without being forged.
const SAFE_ID = /^[\x21-\x7e]+$/;

/**
 * Throws `invalid_options` (naming `packageName`) unless `value` is absent or a safe correlation
 * id: 1 to 128 printable ASCII characters, no space, CR, LF or other control character. Call it
 * before any I/O: a CR/LF in a header would otherwise fail (and be retried) as a network error,
 * or be silently rewritten.
 *
 * @public
 * @example
 * ```ts
 * assertCorrelationId("@certbound/credential-cert", request.correlationId);
 * ```
 */
export function assertCorrelationId(packageName: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value === "string" && value.length <= MAX_CORRELATION_ID_LENGTH && SAFE_ID.test(value)) return;
  const what =
    typeof value !== "string"
      ? `a ${typeof value}`
      : value.length > MAX_CORRELATION_ID_LENGTH
        ? `${value.length} characters`
        : value === ""
          ? "an empty string"
          : "a value with spaces or control characters";
  throw invalidOptions(
    packageName,
    `\`correlationId\` must be 1 to ${MAX_CORRELATION_ID_LENGTH} printable ASCII characters without spaces (a UUID such as crypto.randomUUID() gives), got ${what}.`,
  );
}

// A random UUID v4 prefix per process and a 48-bit counter: unique and UUID-shaped. The head string
// changes only every 65,536 ids and the tail comes from a table, because formatting the counter
// with toString(16).padStart() on every cache hit cost about a quarter of a hit. Correlation ids
// need to be unique, not unpredictable.
const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const prefix = randomUUID().slice(0, 24);
let high = 0;
let low = 0;
let head = `${prefix}00000000`;

/**
 * A correlation id for work that sends nothing (a cache hit). Network requests use `randomUUID()`.
 *
 * @example
 * ```ts
 * nextCorrelationId(); // "1b4e28ba-2fa1-41d2-883f-000000000001"
 * ```
 */
export function nextCorrelationId(): string {
  low = (low + 1) & 0xffff;
  if (low === 0) {
    high = (high + 1) % 0x100000000;
    head = prefix + high.toString(16).padStart(8, "0");
  }
  return head + (HEX_BYTE[low >>> 8] as string) + (HEX_BYTE[low & 0xff] as string);
}
