/**
 * Parses a `Retry-After` header, in delta-seconds or HTTP-date form, into milliseconds from `now`.
 * Returns `undefined` when the header is absent or unreadable; never a negative number.
 *
 * @public
 * @example
 * ```ts
 * parseRetryAfter("120", Date.now()); // 120000
 * parseRetryAfter("Wed, 21 Oct 2026 07:28:00 GMT", Date.now());
 * ```
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^\d+$/.test(text)) {
    const seconds = Number(text);
    return Number.isSafeInteger(seconds) ? seconds * 1000 : undefined;
  }
  // HTTP-date (IMF-fixdate and the obsolete forms Date.parse also reads); must name a weekday or
  // month so that plain garbage never parses as a date.
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
