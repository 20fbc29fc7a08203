/**
 * A number at or above this is an absolute epoch (seconds); below, a relative duration.
 *
 * @public
 * @example
 * ```ts
 * const absolute = value >= EPOCH_THRESHOLD_SECONDS;
 * ```
 */
export const EPOCH_THRESHOLD_SECONDS = 978_307_200;

const NUMERIC = /^\s*\d+(\.\d+)?\s*$/;
// ISO 8601 with a time and a zone: without a zone a date-time is read in the machine's local time.
const ISO_8601 = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
// RFC 1123, as HTTP dates are written.
const RFC_1123 =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
// What older App Service versions send: "MM/dd/yyyy hh:mm:ss [AM|PM] +00:00".
const US_DATE =
  /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2}):(\d{2})(?: ([AP]M))? (?:([+-])(\d{2}):?(\d{2})|Z|GMT|UTC)$/i;

/**
 * Reads an expiry field as managed-identity services send it: seconds as a number or numeric
 * string (absolute when >= 978307200, else relative to `now`), or a date string in one of the
 * shapes services really send (ISO 8601 with a zone, RFC 1123, App Service's
 * `MM/dd/yyyy hh:mm:ss [AM|PM] +00:00`). Anything else, e.g. `"abc 2001"` that `Date.parse` would
 * accept, is unreadable. Returns epoch milliseconds, or `undefined` when absent or unreadable.
 *
 * @public
 * @example
 * ```ts
 * parseExpiry(3599, Date.now());             // now + 3599 s
 * parseExpiry("1767225600", Date.now());     // 2026-01-01T00:00:00Z
 * parseExpiry("2026-01-01T00:00:00Z", 0);    // same
 * ```
 */
export function parseExpiry(value: unknown, now: number): number | undefined {
  const seconds = numericSeconds(value);
  if (seconds === undefined) return typeof value === "string" ? parseDate(value.trim()) : undefined;
  return finiteInstant(seconds >= EPOCH_THRESHOLD_SECONDS ? seconds * 1000 : now + seconds * 1000);
}

/**
 * Reads a duration field of Entra's token endpoint (`expires_in`, `refresh_in`, `ext_expires_in`):
 * always seconds relative to `now`, however large (only a managed-identity `expires_on` may be an
 * absolute epoch). Returns epoch milliseconds, or `undefined` when absent or unreadable.
 *
 * @internal
 * @example
 * ```ts
 * parseRelativeSeconds("3599", Date.now()); // now + 3599 s
 * ```
 */
export function parseRelativeSeconds(value: unknown, now: number): number | undefined {
  const seconds = numericSeconds(value);
  return seconds === undefined ? undefined : finiteInstant(now + seconds * 1000);
}

function numericSeconds(value: unknown): number | undefined {
  const n =
    typeof value === "number"
      ? value
      : typeof value === "string" && NUMERIC.test(value)
        ? Number(value)
        : undefined;
  return n !== undefined && Number.isFinite(n) && n >= 0 ? n : undefined;
}

function finiteInstant(ms: number): number | undefined {
  return Number.isFinite(new Date(ms).getTime()) ? Math.round(ms) : undefined;
}

function parseDate(text: string): number | undefined {
  if (ISO_8601.test(text) || RFC_1123.test(text)) {
    const at = Date.parse(text);
    return Number.isNaN(at) ? undefined : at;
  }
  const us = US_DATE.exec(text);
  if (!us) return undefined;
  const [, mm, dd, yyyy, hh, mi, ss, half, sign, offH, offM] = us;
  const month = Number(mm);
  const day = Number(dd);
  const year = Number(yyyy);
  let hour = Number(hh);
  if (half !== undefined) {
    if (hour > 12) return undefined;
    hour = (hour % 12) + (half.toUpperCase() === "PM" ? 12 : 0);
  }
  const minute = Number(mi);
  const second = Number(ss);
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(utc);
  // Refuses 02/31 and month 13, which Date.UTC would roll over into the next month or year.
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined;
  const offset =
    sign === undefined ? 0 : (sign === "-" ? -1 : 1) * (Number(offH) * 60 + Number(offM)) * 60_000;
  return finiteInstant(utc - offset);
}

/**
 * The managed-identity half-life rule: a token that lives more than 2 hours is refreshed at half
 * its remaining lifetime.
 *
 * @public
 * @example
 * ```ts
 * halfLifeRefresh(now, now + 24 * 3600_000); // now + 12 h
 * ```
 */
export function halfLifeRefresh(now: number, expiresAt: number): number | undefined {
  const lifetime = expiresAt - now;
  return lifetime > 2 * 3600_000 ? now + Math.floor(lifetime / 2) : undefined;
}
